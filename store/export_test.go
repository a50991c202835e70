package store

import "testing"

// Snapshot returns every row of every table, in rowid order, so that tests
// can check that a failed or repeated change left the database as it was.
func (s *Store) Snapshot(t testing.TB) map[string][]map[string]any {
	t.Helper()

	var tables []string
	err := s.read.Raw(`SELECT name FROM sqlite_master
		WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).
		Scan(&tables).Error
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}

	snapshot := make(map[string][]map[string]any, len(tables))
	for _, table := range tables {
		var rows []map[string]any
		err := s.read.Raw("SELECT * FROM " + table + " ORDER BY rowid").Scan(&rows).Error
		if err != nil {
			t.Fatalf("read table %s: %v", table, err)
		}
		snapshot[table] = rows
	}
	return snapshot
}

// QueryStrings runs a query on the read pool and returns the first column
// of each row as text.
func (s *Store) QueryStrings(t testing.TB, query string, args ...any) []string {
	t.Helper()

	var values []string
	if err := s.read.Raw(query, args...).Scan(&values).Error; err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	return values
}

// Exec runs a statement on the write pool and returns its error, after
// GORM's translation of constraint violations.
func (s *Store) Exec(query string, args ...any) error {
	return s.write.Exec(query, args...).Error
}
