package store_test

import (
	"errors"
	"testing"

	"gorm.io/gorm"

	"credprops/store"
)

// These tests write rows with plain SQL, around the store's own checks, to
// show that the database itself enforces each invariant.

func constraintSeed() store.Seed {
	return store.Seed{
		Clients: []store.SeedClient{{ExtID: "acme", Name: "ACME"}},
		Users:   []store.SeedUser{{ExtID: "ops", Client: "acme"}},
		Properties: []store.SeedProperty{
			{Name: "employee_id", UniquenessScope: store.UniquenessAbsolute},
			{Name: "note"},
		},
		Credentials: []store.SeedCredential{
			{ExtID: "cred-1", User: "ops", Identification: "a", Properties: map[string]*string{"employee_id": ptr("7"), "note": ptr("same")}},
			{ExtID: "cred-2", User: "ops", Identification: "b"},
		},
	}
}

func TestConstraints(t *testing.T) {
	const now = "2026-01-01 00:00:00"
	cases := []struct {
		desc    string
		query   string
		wantDup bool
	}{
		{"absolute value held twice",
			`INSERT INTO property_values (credential_id, definition_id, value, unique_value, created_at, updated_at)
			 SELECT g.id, d.id, '7', '7', '` + now + `', '` + now + `' FROM generic_credentials g, property_definitions d
			 WHERE g.ext_id = 'cred-2' AND d.name = 'employee_id'`, true},
		{"unique value differs from value",
			`INSERT INTO property_values (credential_id, definition_id, value, unique_value, created_at, updated_at)
			 SELECT g.id, d.id, '8', '9', '` + now + `', '` + now + `' FROM generic_credentials g, property_definitions d
			 WHERE g.ext_id = 'cred-2' AND d.name = 'employee_id'`, false},
		{"two values of one property on one credential",
			`INSERT INTO property_values (credential_id, definition_id, value, created_at, updated_at)
			 SELECT g.id, d.id, 'x', '` + now + `', '` + now + `' FROM generic_credentials g, property_definitions d
			 WHERE g.ext_id = 'cred-1' AND d.name = 'note'`, true},
		{"two global definitions of one name",
			`INSERT INTO property_definitions (name, scope, type, uniqueness_scope, access_create, access_modify, description)
			 VALUES ('note', 'CREDENTIAL_GENERIC_GLOBAL', 'STRING', 'NONE', 'READ_WRITE', 'READ_WRITE', '')`, true},
		{"unknown credential state",
			`UPDATE generic_credentials SET state = 'gone' WHERE ext_id = 'cred-1'`, false},
		{"value of a missing credential",
			`INSERT INTO property_values (credential_id, definition_id, value, created_at, updated_at)
			 SELECT 999, d.id, 'x', '` + now + `', '` + now + `' FROM property_definitions d WHERE d.name = 'note'`, false},
		{"two credentials with one extId",
			`INSERT INTO generic_credentials (user_id, ext_id, identification, state, created_at, updated_at)
			 SELECT u.id, 'cred-1', 'c', 'active', '` + now + `', '` + now + `' FROM users u WHERE u.ext_id = 'ops'`, true},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := openStore(t)
			mustLoad(t, s, constraintSeed())
			before := s.Snapshot(t)

			err := s.Exec(c.query)

			if err == nil {
				t.Fatal("statement succeeded, want a constraint violation")
			}
			if c.wantDup && !errors.Is(err, gorm.ErrDuplicatedKey) {
				t.Errorf("error = %v, want gorm.ErrDuplicatedKey", err)
			}
			if len(s.Snapshot(t)["property_values"]) != len(before["property_values"]) {
				t.Error("a rejected statement changed property_values")
			}
		})
	}
}

func TestConstraints_NoneValuesMayRepeat(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, constraintSeed())

	_, err := s.Load(t.Context(), store.Seed{Credentials: []store.SeedCredential{
		{ExtID: "cred-2", User: "ops", Identification: "b", Properties: map[string]*string{"note": ptr("same")}},
	}})

	if err != nil {
		t.Errorf("second credential with note 'same': %v, want success", err)
	}
}
