package store_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"credprops/access"
	"credprops/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), log)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustLoad(t *testing.T, s *store.Store, seed store.Seed) store.LoadReport {
	t.Helper()
	report, err := s.Load(context.Background(), seed)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return report
}

// loadError loads seed, expects it to fail with a *LoadError and returns
// that error.
func loadError(t *testing.T, s *store.Store, seed store.Seed) *store.LoadError {
	t.Helper()
	_, err := s.Load(context.Background(), seed)
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	var loadErr *store.LoadError
	if !errors.As(err, &loadErr) {
		t.Fatalf("Load error = %v (%T), want a *store.LoadError", err, err)
	}
	return loadErr
}

func properties(t *testing.T, s *store.Store, client, user, cred string) map[string]string {
	t.Helper()
	ref := store.CredentialRef{ClientExtID: client, UserExtID: user, ExtID: cred}
	props, err := s.Properties(context.Background(), ref, store.OverrideAccess)
	if err != nil {
		t.Fatalf("Properties(%v): %v", ref, err)
	}
	return props
}

func ptr[T any](v T) *T { return &v }

// baseSeed returns a seed with entries of every kind. Its lines are
// arbitrary but distinct.
func baseSeed() store.Seed {
	return store.Seed{
		Clients: []store.SeedClient{
			{ExtID: "acme", Name: "ACME", Line: 2},
			{ExtID: "beta", Name: "Beta", Line: 3},
		},
		Roles: []store.SeedRole{
			{Name: "Reader", Rights: []access.Right{access.CredentialView, access.PropertyView}, Line: 5},
		},
		Users: []store.SeedUser{
			{ExtID: "ops", Client: "acme", LoginID: ptr("ops"), Line: 7, Roles: []store.SeedRoleAssignment{
				{Name: access.RoleRoot, Line: 8},
				{Name: "Reader", Clients: []string{"beta", "acme"}, Line: 9},
			}},
			{ExtID: "bob", Client: "beta", Line: 10},
		},
		Properties: []store.SeedProperty{
			{Name: "employee_id", StringMaxLen: ptr(10), StringRegex: ptr("[0-9]+"),
				UniquenessScope: store.UniquenessAbsolute, Line: 12},
			{Name: "tier", Type: store.TypeEnum, AllowedValues: []string{"gold", "silver"}, Line: 13},
			{Name: "note", AccessModify: store.AccessOff, Description: "free text", Line: 14},
			{Name: "nick", StringMaxLen: ptr(3), Line: 15},
			{Name: "nick", Client: "acme", StringMaxLen: ptr(6), Line: 16},
		},
		Credentials: []store.SeedCredential{
			{ExtID: "cred-1", User: "ops", Identification: "ops-1", Line: 18,
				Properties: map[string]*string{"employee_id": ptr("123"), "tier": ptr("gold"), "nick": ptr("abcdef")}},
			{ExtID: "cred-2", User: "ops", Identification: "ops-2", StateName: store.StateDisabled, Line: 19,
				Properties: map[string]*string{"employee_id": ptr("456")}},
			{ExtID: "cred-old", User: "bob", Identification: "bob-1", StateName: store.StateArchived, Line: 20,
				Properties: map[string]*string{"note": ptr("kept")}},
		},
	}
}

func TestLoad_CreatesEverything(t *testing.T) {
	s := openStore(t)

	got := mustLoad(t, s, baseSeed())

	want := store.LoadReport{
		Clients:     store.LoadCounts{Created: 2},
		Roles:       store.LoadCounts{Created: 1},
		Users:       store.LoadCounts{Created: 2},
		Properties:  store.LoadCounts{Created: 5},
		Credentials: store.LoadCounts{Created: 3},
	}
	if got != want {
		t.Errorf("report = %+v, want %+v", got, want)
	}

	props := properties(t, s, "acme", "ops", "cred-1")
	wantProps := map[string]string{"employee_id": "123", "tier": "gold", "nick": "abcdef"}
	if !reflect.DeepEqual(props, wantProps) {
		t.Errorf("cred-1 properties = %v, want %v", props, wantProps)
	}

	props = properties(t, s, "beta", "bob", "cred-old")
	if props["note"] != "kept" {
		t.Errorf("archived cred-old note = %q, want %q", props["note"], "kept")
	}

	states := s.QueryStrings(t, "SELECT state FROM generic_credentials ORDER BY ext_id")
	wantStates := []string{store.StateActive, store.StateDisabled, store.StateArchived}
	if !slices.Equal(states, wantStates) {
		t.Errorf("states = %v, want %v", states, wantStates)
	}
}

func TestLoad_ReloadChangesNothing(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())
	before := s.Snapshot(t)

	got := mustLoad(t, s, baseSeed())

	if got != (store.LoadReport{}) {
		t.Errorf("second report = %+v, want all zero", got)
	}
	if got.String() != "no changes" {
		t.Errorf("second report = %q, want %q", got.String(), "no changes")
	}
	if after := s.Snapshot(t); !reflect.DeepEqual(after, before) {
		t.Errorf("stored data changed on reload:\nbefore %v\nafter  %v", before, after)
	}
}

func TestLoad_Callers(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())

	caller, err := s.Caller(context.Background(), "ops")
	if err != nil {
		t.Fatalf("Caller: %v", err)
	}

	if caller.ClientExtID != "acme" {
		t.Errorf("ClientExtID = %q, want acme", caller.ClientExtID)
	}
	byRole := map[string][]string{}
	for _, a := range caller.Assignments {
		clients := slices.Clone(a.Clients)
		slices.Sort(clients)
		byRole[a.Role] = clients
	}
	want := map[string][]string{access.RoleRoot: nil, "Reader": {"acme", "beta"}}
	if !reflect.DeepEqual(byRole, want) {
		t.Errorf("assignments = %v, want %v", byRole, want)
	}
}

func TestLoad_UpdatesByKey(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())
	ids := s.QueryStrings(t, "SELECT id FROM clients ORDER BY ext_id")

	seed := baseSeed()
	seed.Clients[0].Name = "ACME Corp"
	seed.Roles[0].Rights = append(seed.Roles[0].Rights, access.PropertyValueView)
	seed.Users[0].LoginID = nil
	seed.Properties[2].Description = "changed"
	seed.Credentials[1].Identification = "ops-2b"
	got := mustLoad(t, s, seed)

	want := store.LoadReport{
		Clients:     store.LoadCounts{Updated: 1},
		Roles:       store.LoadCounts{Updated: 1},
		Users:       store.LoadCounts{Updated: 1},
		Properties:  store.LoadCounts{Updated: 1},
		Credentials: store.LoadCounts{Updated: 1},
	}
	if got != want {
		t.Errorf("report = %+v, want %+v", got, want)
	}

	names := s.QueryStrings(t, "SELECT name FROM clients ORDER BY ext_id")
	if !slices.Equal(names, []string{"ACME Corp", "Beta"}) {
		t.Errorf("client names = %v, want [ACME Corp Beta]", names)
	}
	if after := s.QueryStrings(t, "SELECT id FROM clients ORDER BY ext_id"); !slices.Equal(after, ids) {
		t.Errorf("client IDs = %v, want %v: clients were recreated", after, ids)
	}
	logins := s.QueryStrings(t, "SELECT COALESCE(login_id, '<null>') FROM users WHERE ext_id = 'ops'")
	if !slices.Equal(logins, []string{"<null>"}) {
		t.Errorf("ops login_id = %v, want NULL", logins)
	}
	idents := s.QueryStrings(t, "SELECT identification FROM generic_credentials WHERE ext_id = 'cred-2'")
	if !slices.Equal(idents, []string{"ops-2b"}) {
		t.Errorf("cred-2 identification = %v, want [ops-2b]", idents)
	}
}

func TestLoad_PropertiesPatch(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())

	seed := baseSeed()
	seed.Credentials[0].Properties = map[string]*string{
		"tier":        nil,          // deletes
		"nick":        ptr(""),      // deletes
		"note":        ptr("added"), // creates
		"employee_id": ptr("123"),   // unchanged
	}
	got := mustLoad(t, s, seed)

	if got.Credentials != (store.LoadCounts{Updated: 1}) {
		t.Errorf("credential counts = %+v, want 1 updated", got.Credentials)
	}
	props := properties(t, s, "acme", "ops", "cred-1")
	want := map[string]string{"employee_id": "123", "note": "added"}
	if !reflect.DeepEqual(props, want) {
		t.Errorf("cred-1 properties = %v, want %v", props, want)
	}
}

func TestLoad_OmittedPropertiesKept(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())

	seed := baseSeed()
	seed.Credentials[0].Properties = nil
	got := mustLoad(t, s, seed)

	if got != (store.LoadReport{}) {
		t.Errorf("report = %+v, want all zero", got)
	}
	if props := properties(t, s, "acme", "ops", "cred-1"); len(props) != 3 {
		t.Errorf("cred-1 properties = %v, want the 3 stored ones", props)
	}
}

func TestLoad_ReplacesRoleAssignments(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())

	seed := baseSeed()
	seed.Users[0].Roles = []store.SeedRoleAssignment{
		{Name: access.RoleCredentialViewer, Clients: []string{"beta"}, Line: 8},
	}
	got := mustLoad(t, s, seed)

	if got.Users != (store.LoadCounts{Updated: 1}) {
		t.Errorf("user counts = %+v, want 1 updated", got.Users)
	}
	caller, err := s.Caller(context.Background(), "ops")
	if err != nil {
		t.Fatalf("Caller: %v", err)
	}
	if len(caller.Assignments) != 1 {
		t.Fatalf("assignments = %+v, want 1", caller.Assignments)
	}
	a := caller.Assignments[0]
	if a.Role != access.RoleCredentialViewer || !slices.Equal(a.Clients, []string{"beta"}) {
		t.Errorf("assignment = %+v, want CredentialViewer on [beta]", a)
	}
	joins := s.QueryStrings(t, "SELECT COUNT(*) FROM role_assignment_clients")
	if !slices.Equal(joins, []string{"1"}) {
		t.Errorf("dataroom rows = %v, want 1: old rows were left behind", joins)
	}
}

func TestLoad_DataroomOrderIsNoChange(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())

	seed := baseSeed()
	seed.Users[0].Roles[1].Clients = []string{"acme", "beta"}
	slices.Reverse(seed.Users[0].Roles)
	got := mustLoad(t, s, seed)

	if got.Users != (store.LoadCounts{}) {
		t.Errorf("user counts = %+v, want none", got.Users)
	}
}

func TestLoad_UserWithoutRoles(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())

	seed := baseSeed()
	seed.Users[0].Roles = nil
	mustLoad(t, s, seed)

	caller, err := s.Caller(context.Background(), "ops")
	if err != nil {
		t.Fatalf("Caller: %v", err)
	}
	if len(caller.Assignments) != 0 {
		t.Errorf("assignments = %+v, want none", caller.Assignments)
	}
}

func TestLoad_DanglingReferences(t *testing.T) {
	cases := []struct {
		desc   string
		change func(*store.Seed)
		line   int
		want   string
	}{
		{"user's client", func(s *store.Seed) {
			s.Users[1].Client = "gone"
		}, 10, `client "gone" not found`},
		{"role name", func(s *store.Seed) {
			s.Users[0].Roles[1].Name = "Ghost"
		}, 9, `role "Ghost" not found`},
		{"dataroom client", func(s *store.Seed) {
			s.Users[0].Roles[1].Clients = []string{"acme", "gone"}
		}, 9, `client "gone" not found`},
		{"property's client", func(s *store.Seed) {
			s.Properties[4].Client = "gone"
		}, 16, `client "gone" not found`},
		{"credential's user", func(s *store.Seed) {
			s.Credentials[2].User = "ghost"
		}, 20, `user "ghost" not found`},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := openStore(t)
			seed := baseSeed()
			c.change(&seed)

			err := loadError(t, s, seed)

			if err.Line != c.line {
				t.Errorf("line = %d, want %d (error %q)", err.Line, c.line, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %q, want it to contain %q", err, c.want)
			}
			if empty, _ := s.Empty(context.Background()); !empty {
				t.Error("database has clients after a failed load")
			}
		})
	}
}

func TestLoad_InvalidEntries(t *testing.T) {
	cases := []struct {
		desc   string
		change func(*store.Seed)
		line   int
		want   string
	}{
		{"bad regex", func(s *store.Seed) {
			s.Properties[0].StringRegex = ptr("[0-9")
		}, 12, "stringRegex is not a valid Go (RE2) regular expression"},
		{"Perl-only regex", func(s *store.Seed) {
			s.Properties[0].StringRegex = ptr(`(?=x)`)
		}, 12, "stringRegex is not a valid"},
		{"empty regex", func(s *store.Seed) {
			s.Properties[0].StringRegex = ptr("")
		}, 12, "stringRegex is empty"},
		{"ENUM without values", func(s *store.Seed) {
			s.Properties[1].AllowedValues = nil
		}, 13, "ENUM needs at least one value"},
		{"ENUM with stringMaxLen", func(s *store.Seed) {
			s.Properties[1].StringMaxLen = ptr(5)
		}, 13, "ENUM takes no stringMaxLen"},
		{"ENUM with empty value", func(s *store.Seed) {
			s.Properties[1].AllowedValues = []string{"gold", ""}
		}, 13, "empty value"},
		{"ENUM with repeated value", func(s *store.Seed) {
			s.Properties[1].AllowedValues = []string{"gold", "gold"}
		}, 13, `allowedValues lists "gold" twice`},
		{"STRING with allowedValues", func(s *store.Seed) {
			s.Properties[2].AllowedValues = []string{"x"}
		}, 14, "allowedValues needs type ENUM"},
		{"zero stringMaxLen", func(s *store.Seed) {
			s.Properties[3].StringMaxLen = ptr(0)
		}, 15, "stringMaxLen is 0"},
		{"unknown type", func(s *store.Seed) {
			s.Properties[3].Type = "NUMBER"
		}, 15, `invalid type "NUMBER"`},
		{"unknown access mode", func(s *store.Seed) {
			s.Properties[3].AccessModify = "WRITE_ONLY"
		}, 15, `invalid accessModify "WRITE_ONLY"`},
		{"unknown uniqueness scope", func(s *store.Seed) {
			s.Properties[3].UniquenessScope = "CLIENT"
		}, 15, `invalid uniquenessScope "CLIENT"`},
		{"repeated definition", func(s *store.Seed) {
			s.Properties[4].Client = ""
		}, 16, `property "nick" is already listed on line 15`},
		{"built-in role", func(s *store.Seed) {
			s.Roles[0].Name = access.RoleRoot
		}, 5, "built-in role"},
		{"unknown right", func(s *store.Seed) {
			s.Roles[0].Rights = []access.Right{"AccessControl.Everything"}
		}, 5, `unknown right "AccessControl.Everything"`},
		{"repeated client", func(s *store.Seed) {
			s.Clients[1].ExtID = "acme"
		}, 3, `client "acme" is already listed on line 2`},
		{"repeated client name", func(s *store.Seed) {
			s.Clients[1].Name = "ACME"
		}, 3, `name "ACME" is already used on line 2`},
		{"missing client name", func(s *store.Seed) {
			s.Clients[1].Name = ""
		}, 3, "name is missing"},
		{"repeated role assignment", func(s *store.Seed) {
			s.Users[0].Roles[1].Name = access.RoleRoot
		}, 9, `role "Root" is already assigned on line 8`},
		{"empty loginId", func(s *store.Seed) {
			s.Users[1].LoginID = ptr("")
		}, 10, "loginId is empty"},
		{"repeated loginId", func(s *store.Seed) {
			s.Users[1].Client = "acme"
			s.Users[1].LoginID = ptr("ops")
		}, 10, `loginId "ops" is already used on client "acme" on line 7`},
		{"unknown state", func(s *store.Seed) {
			s.Credentials[1].StateName = "frozen"
		}, 19, `invalid stateName "frozen"`},
		{"missing identification", func(s *store.Seed) {
			s.Credentials[1].Identification = ""
		}, 19, "identification is missing"},
		{"extId too long", func(s *store.Seed) {
			s.Credentials[1].ExtID = strings.Repeat("é", 256)
		}, 19, "extId has 256 characters, more than the maximum of 255"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := openStore(t)
			seed := baseSeed()
			c.change(&seed)

			err := loadError(t, s, seed)

			if err.Line != c.line {
				t.Errorf("line = %d, want %d (error %q)", err.Line, c.line, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestLoad_InvalidValues(t *testing.T) {
	cases := []struct {
		desc     string
		property string
		value    string
		rule     store.Rule
		want     string
	}{
		{"too long", "employee_id", "12345678901", store.RuleMaxLen,
			"11 characters, more than the maximum of 10"},
		{"regex mismatch", "employee_id", "12a", store.RuleRegex,
			`does not match stringRegex "[0-9]+"`},
		{"not an allowed value", "tier", "platinum", store.RuleAllowedValues,
			"not one of the allowed values gold, silver"},
		{"client definition wins", "nick", "abcdefg", store.RuleMaxLen,
			"7 characters, more than the maximum of 6"},
		{"unknown property", "colour", "crimson7", store.RuleUnknownProperty,
			`no definition exists for client "acme"`},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := openStore(t)
			seed := baseSeed()
			seed.Credentials[0].Properties[c.property] = ptr(c.value)

			err := loadError(t, s, seed)

			if err.Line != 18 {
				t.Errorf("line = %d, want 18 (error %q)", err.Line, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, `property "`+c.property+`"`) {
				t.Errorf("error = %q, want it to name property %s", msg, c.property)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("error = %q, want it to contain %q", msg, c.want)
			}
			if strings.Contains(msg, c.value) {
				t.Errorf("error = %q, want it without the value %q", msg, c.value)
			}
			var invalid *store.ValidationError
			if !errors.As(err, &invalid) {
				t.Fatalf("error = %q, want it to wrap a *store.ValidationError", msg)
			}
			if got := invalid.Violations[0].Rule; got != c.rule {
				t.Errorf("rule = %v, want %v", got, c.rule)
			}
		})
	}
}

func TestLoad_UniqueValueTwiceInFile(t *testing.T) {
	s := openStore(t)
	seed := baseSeed()
	seed.Credentials[1].Properties["employee_id"] = ptr("123")

	err := loadError(t, s, seed)

	if err.Line != 19 {
		t.Errorf("line = %d, want 19, the second credential with the value (error %q)", err.Line, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, `credential "cred-2": `) || !strings.Contains(msg, `property "employee_id"`) {
		t.Errorf("error = %q, want it to name cred-2 and employee_id", msg)
	}
	if !strings.Contains(msg, "uniquenessScope is ABSOLUTE") {
		t.Errorf("error = %q, want it to name the uniqueness rule", msg)
	}
	if strings.Contains(msg, "123") {
		t.Errorf("error = %q, want it without the value", msg)
	}
	if empty, _ := s.Empty(context.Background()); !empty {
		t.Error("database has clients after a failed load")
	}
}

func TestLoad_FailureLeavesDatabaseAsBefore(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())
	before := s.Snapshot(t)

	seed := baseSeed()
	seed.Clients[0].Name = "ACME Corp"
	seed.Clients = append(seed.Clients, store.SeedClient{ExtID: "gamma", Name: "Gamma", Line: 4})
	seed.Roles[0].Rights = []access.Right{access.CredentialView}
	seed.Users[0].Roles = nil
	seed.Users = append(seed.Users, store.SeedUser{ExtID: "new", Client: "gamma", Line: 11})
	seed.Properties[0].UniquenessScope = store.UniquenessNone
	seed.Credentials[0].Properties = map[string]*string{"tier": nil, "note": ptr("x")}
	seed.Credentials = append(seed.Credentials,
		store.SeedCredential{ExtID: "cred-3", User: "new", Identification: "n", Line: 21},
		store.SeedCredential{ExtID: "cred-4", User: "new", Identification: "n",
			Properties: map[string]*string{"tier": ptr("tin")}, Line: 22})

	err := loadError(t, s, seed)

	if err.Line != 22 {
		t.Errorf("line = %d, want 22 (error %q)", err.Line, err)
	}
	if after := s.Snapshot(t); !reflect.DeepEqual(after, before) {
		t.Errorf("stored data changed by a failed load:\nbefore %v\nafter  %v", before, after)
	}
}

func TestLoad_ClientNameTakenByStoredClient(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())

	seed := store.Seed{Clients: []store.SeedClient{{ExtID: "other", Name: "ACME", Line: 4}}}
	err := loadError(t, s, seed)

	if err.Line != 4 {
		t.Errorf("line = %d, want 4", err.Line)
	}
	if want := `name "ACME" is already used by client "acme"`; !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
}

func TestLoad_UserCannotMoveClient(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())

	seed := baseSeed()
	seed.Users[1].Client = "acme"
	err := loadError(t, s, seed)

	if err.Line != 10 {
		t.Errorf("line = %d, want 10", err.Line)
	}
	want := `user "bob" is stored on client "beta" and cannot move to client "acme"`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
}

func TestLoad_CredentialCannotMoveUser(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, baseSeed())

	seed := baseSeed()
	seed.Credentials[2].User = "ops"
	err := loadError(t, s, seed)

	if err.Line != 20 {
		t.Errorf("line = %d, want 20", err.Line)
	}
	want := `credential "cred-old" belongs to user "bob" and cannot move to user "ops"`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
}

// uniqueSeed returns a seed whose two credentials have the given values of
// the NONE property code.
func uniqueSeed(first, second string) store.Seed {
	return store.Seed{
		Clients:    []store.SeedClient{{ExtID: "acme", Name: "ACME", Line: 1}},
		Users:      []store.SeedUser{{ExtID: "ops", Client: "acme", Line: 2}},
		Properties: []store.SeedProperty{{Name: "code", Line: 3}},
		Credentials: []store.SeedCredential{
			{ExtID: "cred-1", User: "ops", Identification: "a", Line: 4,
				Properties: map[string]*string{"code": ptr(first)}},
			{ExtID: "cred-2", User: "ops", Identification: "b", Line: 5,
				Properties: map[string]*string{"code": ptr(second)}},
		},
	}
}

func TestLoad_SwitchToAbsoluteFillsUniqueValues(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, uniqueSeed("x1", "x2"))

	seed := uniqueSeed("x1", "x2")
	seed.Properties[0].UniquenessScope = store.UniquenessAbsolute
	got := mustLoad(t, s, seed)

	if got.Properties != (store.LoadCounts{Updated: 1}) {
		t.Errorf("property counts = %+v, want 1 updated", got.Properties)
	}
	unique := s.QueryStrings(t, "SELECT COALESCE(unique_value, '<null>') FROM property_values ORDER BY value")
	if !slices.Equal(unique, []string{"x1", "x2"}) {
		t.Errorf("unique_value = %v, want [x1 x2]", unique)
	}

	ref := store.CredentialRef{ClientExtID: "acme", UserExtID: "ops", ExtID: "cred-2"}
	_, err := s.UpdateProperties(context.Background(), ref,
		map[string]*string{"code": ptr("x1")}, store.OverrideAccess)
	var invalid *store.ValidationError
	if !errors.As(err, &invalid) || invalid.Violations[0].Rule != store.RuleUnique {
		t.Errorf("UpdateProperties to a held value: error = %v, want RuleUnique", err)
	}
}

func TestLoad_SwitchToNoneClearsUniqueValues(t *testing.T) {
	s := openStore(t)
	seed := uniqueSeed("x1", "x2")
	seed.Properties[0].UniquenessScope = store.UniquenessAbsolute
	mustLoad(t, s, seed)

	mustLoad(t, s, uniqueSeed("x1", "x2"))

	unique := s.QueryStrings(t, "SELECT COUNT(*) FROM property_values WHERE unique_value IS NOT NULL")
	if !slices.Equal(unique, []string{"0"}) {
		t.Errorf("values with unique_value = %v, want 0", unique)
	}
	seed = uniqueSeed("x1", "x1")
	if got := mustLoad(t, s, seed); got.Credentials != (store.LoadCounts{Updated: 1}) {
		t.Errorf("credential counts = %+v, want 1 updated", got.Credentials)
	}
}

func TestLoad_SwitchToAbsoluteWithSharedValue(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, uniqueSeed("dup-42", "dup-42"))
	before := s.Snapshot(t)

	seed := uniqueSeed("dup-42", "dup-42")
	seed.Credentials = nil
	seed.Properties[0].UniquenessScope = store.UniquenessAbsolute
	err := loadError(t, s, seed)

	if err.Line != 3 {
		t.Errorf("line = %d, want 3 (error %q)", err.Line, err)
	}
	want := `credentials "cred-1" and "cred-2" have the same value`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
	if strings.Contains(err.Error(), "dup-42") {
		t.Errorf("error = %q, want it without the value", err)
	}
	if after := s.Snapshot(t); !reflect.DeepEqual(after, before) {
		t.Error("stored data changed by a failed load")
	}
}

func TestEmpty(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()

	empty, err := s.Empty(ctx)
	if err != nil || !empty {
		t.Errorf("Empty on a new database = %v, %v, want true", empty, err)
	}

	mustLoad(t, s, store.Seed{Clients: []store.SeedClient{{ExtID: "acme", Name: "ACME"}}})
	empty, err = s.Empty(ctx)
	if err != nil || empty {
		t.Errorf("Empty after loading a client = %v, %v, want false", empty, err)
	}
}

func TestLoadReport_String(t *testing.T) {
	r := store.LoadReport{
		Clients:     store.LoadCounts{Created: 2},
		Users:       store.LoadCounts{Created: 3, Updated: 1},
		Credentials: store.LoadCounts{Updated: 4},
	}
	want := "created 2 clients, 3 users; updated 1 users, 4 credentials"
	if got := r.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestLoadError_NoLine(t *testing.T) {
	s := openStore(t)

	err := loadError(t, s, store.Seed{Clients: []store.SeedClient{{ExtID: "acme"}}})

	if want := `client "acme": name is missing`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}
