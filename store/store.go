// Package store keeps clients, users, roles, generic credentials and their
// property definitions and values in a database through GORM. Callers see
// domain types and the errors of this package, never GORM's.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"credprops/access"
)

// Store is the database. Reads use a pool of connections. Writes use a
// second pool of one connection, so that SQLite's single writer is handed
// over in Go instead of through SQLite's sleeping busy handler.
type Store struct {
	read  *gorm.DB
	write *gorm.DB
	// writeTurn hands the writer connection to waiting writers in arrival
	// order. database/sql gives a freed connection to a random waiter, so
	// under load some writers wait many turns.
	writeTurn chan struct{}
}

// takeWriteTurn waits for the writer in arrival order and returns the
// function that releases it.
func (s *Store) takeWriteTurn(ctx context.Context) (func(), error) {
	select {
	case s.writeTurn <- struct{}{}:
		return func() { <-s.writeTurn }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// sqliteParams are the connection settings of every SQLite connection:
// write-ahead logging so readers never block the writer, a busy timeout in
// milliseconds, BEGIN IMMEDIATE so a write transaction takes the write lock
// at its start instead of failing on upgrade, foreign keys on, and
// synchronous=NORMAL, which in WAL mode keeps the database consistent on a
// power loss but can lose the last commits.
var sqliteParams = url.Values{
	"_journal_mode": {"WAL"},
	"_busy_timeout": {"5000"},
	"_txlock":       {"immediate"},
	"_foreign_keys": {"on"},
	"_synchronous":  {"NORMAL"},
	// Prepared statements cached per connection by go-sqlite3 (v1.14.53
	// or later), so a repeated query skips sqlite3_prepare_v2.
	"_stmt_cache_size": {"64"},
}

// SQLiteDSN returns the go-sqlite3 data source name for the database file at
// path, with the settings credprops uses on every connection.
func SQLiteDSN(path string) string {
	path = strings.TrimPrefix(path, "file:")
	name, query, _ := strings.Cut(path, "?")
	params, err := url.ParseQuery(query)
	if err != nil {
		params = url.Values{}
	}
	for key, values := range sqliteParams {
		params[key] = values
	}
	return "file:" + name + "?" + params.Encode()
}

// Open opens the SQLite database at path, creating the file when it is
// missing, and migrates its schema. Close releases it.
func Open(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	dsn := SQLiteDSN(path)
	config := &gorm.Config{
		TranslateError: true,
		Logger:         gormLogger{log: log},
		// NOTE: no PrepareStmt: GORM's prepared statement cache deadlocks
		// with SQLite's single connection writer.
	}

	write, err := gorm.Open(sqlite.Open(dsn), config)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	writeDB, err := write.DB()
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	writeDB.SetMaxOpenConns(1)

	read, err := gorm.Open(sqlite.Open(dsn), config)
	if err != nil {
		writeDB.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	readDB, err := read.DB()
	if err != nil {
		writeDB.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	readers := max(4, runtime.NumCPU())
	readDB.SetMaxOpenConns(readers)
	readDB.SetMaxIdleConns(readers)

	s := &Store{read: read, write: write, writeTurn: make(chan struct{}, 1)}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	var errs []error
	for _, db := range []*gorm.DB{s.read, s.write} {
		sqlDB, err := db.DB()
		if err == nil {
			err = sqlDB.Close()
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Ping runs a query on the read pool and returns its error, if any.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.read.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error
}

// DBs returns the read and write connection pools by name, "read" and
// "write", for monitoring their statistics. Callers must not close them.
func (s *Store) DBs() (map[string]*sql.DB, error) {
	dbs := map[string]*sql.DB{}
	for name, db := range map[string]*gorm.DB{"read": s.read, "write": s.write} {
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("get %s connection pool: %w", name, err)
		}
		dbs[name] = sqlDB
	}
	return dbs, nil
}

// migrate creates or updates the schema and writes the built-in roles.
func (s *Store) migrate(ctx context.Context) error {
	db := s.write.WithContext(ctx)
	if err := db.AutoMigrate(allModels()...); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}

	return db.Transaction(func(tx *gorm.DB) error {
		for name, rights := range access.BuiltinRoles {
			if err := saveRole(tx, name, rights, true); err != nil {
				return fmt.Errorf("write built-in role %s: %w", name, err)
			}
		}
		return nil
	})
}

// saveRole creates the role or replaces its rights.
func saveRole(tx *gorm.DB, name string, rights []access.Right, builtin bool) error {
	names := make([]string, len(rights))
	for i, r := range rights {
		names[i] = string(r)
	}

	var existing role
	err := tx.Where("name = ?", name).Take(&existing).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return tx.Create(&role{Name: name, Rights: names, Builtin: builtin}).Error
	case err != nil:
		return err
	}
	return tx.Model(&existing).Select("rights", "builtin").
		Updates(&role{Rights: names, Builtin: builtin}).Error
}
