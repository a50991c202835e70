package bootstrap_test

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
	"credprops/bootstrap"
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

func mustParse(t *testing.T, data string) store.Seed {
	t.Helper()
	seed, err := bootstrap.Parse("test.yaml", []byte(data))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return seed
}

const example = `# comment on line 1
clients:
  - {extId: acme, name: ACME}
  - extId: 007
    name: Bond
roles:
  - name: Reader
    rights: [AccessControl.CredentialView]
users:
  - extId: ops
    client: acme
    loginId: ops-login
    roles:
      - {name: Root}
      - name: Reader
        clients: [acme, '007']
properties:
  - name: employee_id
    client: acme
    type: STRING
    stringMaxLen: 10
    stringRegex: '[0-9]+'
    uniquenessScope: ABSOLUTE
    accessCreate: READ_WRITE
    accessModify: READ_ONLY
    description: Personnel number
  - {name: tier, type: ENUM, allowedValues: [gold, silver]}
credentials:
  - extId: cred-1
    user: ops
    identification: ops-1
    stateName: archived
    properties: {employee_id: 0123, tier: null, note: '', empty: ~}
`

func TestParse_Example(t *testing.T) {
	got := mustParse(t, example)

	want := store.Seed{
		Clients: []store.SeedClient{
			{ExtID: "acme", Name: "ACME", Line: 3},
			{ExtID: "007", Name: "Bond", Line: 4},
		},
		Roles: []store.SeedRole{
			{Name: "Reader", Rights: []access.Right{access.CredentialView}, Line: 7},
		},
		Users: []store.SeedUser{{
			ExtID: "ops", Client: "acme", LoginID: ptr("ops-login"), Line: 10,
			Roles: []store.SeedRoleAssignment{
				{Name: "Root", Line: 14},
				{Name: "Reader", Clients: []string{"acme", "007"}, Line: 15},
			},
		}},
		Properties: []store.SeedProperty{
			{Name: "employee_id", Client: "acme", Type: "STRING", StringMaxLen: ptr(10),
				StringRegex: ptr("[0-9]+"), UniquenessScope: "ABSOLUTE",
				AccessCreate: "READ_WRITE", AccessModify: "READ_ONLY",
				Description: "Personnel number", Line: 18},
			{Name: "tier", Type: "ENUM", AllowedValues: []string{"gold", "silver"}, Line: 27},
		},
		Credentials: []store.SeedCredential{{
			ExtID: "cred-1", User: "ops", Identification: "ops-1", StateName: "archived", Line: 29,
			Properties: map[string]*string{
				"employee_id": ptr("0123"), "tier": nil, "note": ptr(""), "empty": nil,
			},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParse_Empty(t *testing.T) {
	for _, data := range []string{"", "# only a comment\n", "---\n", "clients: []\n"} {
		seed, err := bootstrap.Parse("test.yaml", []byte(data))
		if err != nil {
			t.Errorf("Parse(%q): %v", data, err)
		}
		if !reflect.DeepEqual(seed, store.Seed{}) {
			t.Errorf("Parse(%q) = %+v, want an empty seed", data, seed)
		}
	}
}

func TestParse_Aliases(t *testing.T) {
	seed := mustParse(t, `
clients:
  - {extId: &id acme, name: ACME}
users:
  - {extId: ops, client: *id}
`)

	if got := seed.Users[0].Client; got != "acme" {
		t.Errorf("client through alias = %q, want acme", got)
	}
}

func TestParse_Errors(t *testing.T) {
	cases := []struct {
		desc string
		data string
		want string // the whole first line of the error
	}{
		{"unknown top-level key", "clients: []\ngroups: []\n",
			`test.yaml:2: unknown key "groups" in the bootstrap file; the keys are clients, roles, users, properties, credentials`},
		{"unknown entry key", "clients:\n  - extId: acme\n    name: ACME\n    label: x\n",
			`test.yaml:4: unknown key "label" in a client; the keys are extId, name`},
		{"unknown role assignment key", "users:\n  - extId: ops\n    roles:\n      - {name: Root, scope: all}\n",
			`test.yaml:4: unknown key "scope" in a role assignment; the keys are name, clients`},
		{"repeated key", "clients:\n  - extId: acme\n    extId: beta\n",
			`test.yaml:3: key "extId" is repeated in a client`},
		{"repeated property", "credentials:\n  - extId: c\n    properties:\n      a: '1'\n      a: '2'\n",
			`test.yaml:5: property "a" is repeated`},
		{"list instead of string", "clients:\n  - extId: [acme]\n",
			`test.yaml:2: extId must be a string, not a list`},
		{"text instead of number", "properties:\n  - name: x\n    stringMaxLen: ten\n",
			`test.yaml:3: stringMaxLen must be a whole number`},
		{"fraction instead of number", "properties:\n  - name: x\n    stringMaxLen: 1.5\n",
			`test.yaml:3: stringMaxLen must be a whole number`},
		{"mapping instead of list", "clients:\n  extId: acme\n",
			`test.yaml:2: clients must be a list, not a mapping`},
		{"string instead of entry", "clients:\n  - acme\n",
			`test.yaml:2: a client must be a mapping, not a scalar`},
		{"mapping in a string list", "roles:\n  - name: R\n    rights:\n      - {a: b}\n",
			`test.yaml:4: each item of rights must be a string`},
		{"list as property value", "credentials:\n  - extId: c\n    properties: {a: [1]}\n",
			`test.yaml:3: the value of property "a" must be a string or null, not a list`},
		{"list as properties", "credentials:\n  - extId: c\n    properties: [a]\n",
			`test.yaml:3: properties must be a mapping from property name to value, not a list`},
		{"top level is a list", "- acme\n",
			`test.yaml:1: the bootstrap file must be a mapping, not a list`},
		{"second document", "clients: []\n---\nusers: []\n",
			`test.yaml:2: a second YAML document starts here; put all entries in one document`},
		{"unclosed flow mapping", "clients:\n  - {extId: acme\n",
			`test.yaml:2: invalid YAML: did not find expected ',' or '}'`},
		{"unclosed flow sequence", "clients: []\nroles: [a, b\nusers: []\n",
			`test.yaml:2: invalid YAML: did not find expected ',' or ']'`},
		// yaml.v3 names the line where the enclosing list starts.
		{"bad indentation", "clients:\n  - extId: a\n    name: A\n   x: 1\n",
			`test.yaml:2: invalid YAML: did not find expected '-' indicator`},
		{"bad mapping indentation", "clients: []\nroles:\n  - name: A\n rights: []\n",
			`test.yaml:4: invalid YAML: did not find expected key`},
		{"unclosed quote", "clients:\n  - extId: 'acme\n",
			`test.yaml:2: invalid YAML: found unexpected end of stream`},
		{"tab indentation", "clients:\n\t- extId: acme\n",
			`test.yaml:2: invalid YAML: found character that cannot start any token`},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			_, err := bootstrap.Parse("test.yaml", []byte(c.data))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}

			first, _, _ := strings.Cut(err.Error(), "\n")
			if first != c.want {
				t.Errorf("error = %q, want %q", first, c.want)
			}
			var parseErr *bootstrap.ParseError
			if !errors.As(err, &parseErr) {
				t.Errorf("error = %v (%T), want a *bootstrap.ParseError", err, err)
			}
		})
	}
}

func TestParse_ListsEveryError(t *testing.T) {
	_, err := bootstrap.Parse("test.yaml", []byte("clients:\n  - {extId: a, nam: A}\n  - {extId: b, nme: B}\n"))
	if err == nil {
		t.Fatal("Parse succeeded, want an error")
	}

	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 {
		t.Fatalf("error = %q, want 2 lines", err)
	}
	if !strings.HasPrefix(lines[0], "test.yaml:2: ") || !strings.HasPrefix(lines[1], "test.yaml:3: ") {
		t.Errorf("error = %q, want one line for line 2 and one for line 3", err)
	}
}

func TestParse_LoadErrorNamesLine(t *testing.T) {
	s := openStore(t)
	seed := mustParse(t, `
clients:
  - {extId: acme, name: ACME}
users:
  - {extId: ops, client: acme}
credentials:
  - {extId: cred-1, user: ops, identification: a}
  - {extId: cred-2, user: nobody, identification: b}
`)

	_, err := s.Load(context.Background(), seed)

	want := `line 8: credential "cred-2": user "nobody" not found; list it under users`
	if err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %q", err, want)
	}
}

func TestDemo_LoadsIntoEmptyDatabase(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()

	report, err := s.Load(ctx, bootstrap.Demo())
	if err != nil {
		t.Fatalf("Load(Demo()): %v", err)
	}

	want := store.LoadReport{
		Clients:     store.LoadCounts{Created: 2},
		Roles:       store.LoadCounts{Created: 1},
		Users:       store.LoadCounts{Created: 4},
		Properties:  store.LoadCounts{Created: 6},
		Credentials: store.LoadCounts{Created: 3},
	}
	if report != want {
		t.Errorf("report = %+v, want %+v", report, want)
	}
	if empty, _ := s.Empty(ctx); empty {
		t.Error("Empty after loading the demo data = true, want false")
	}

	report, err = s.Load(ctx, bootstrap.Demo())
	if err != nil {
		t.Fatalf("second Load(Demo()): %v", err)
	}
	if report != (store.LoadReport{}) {
		t.Errorf("second report = %+v, want all zero", report)
	}
}

func TestDemo_Users(t *testing.T) {
	s := openStore(t)
	if _, err := s.Load(context.Background(), bootstrap.Demo()); err != nil {
		t.Fatalf("Load(Demo()): %v", err)
	}

	cases := []struct {
		user    string
		role    string
		clients []string
	}{
		{"admin", access.RoleRoot, nil},
		{"viewer", access.RoleCredentialViewer, []string{"demo"}},
		{"self", access.RoleSelfAdmin, nil},
	}
	for _, c := range cases {
		t.Run(c.user, func(t *testing.T) {
			caller, err := s.Caller(context.Background(), c.user)
			if err != nil {
				t.Fatalf("Caller: %v", err)
			}
			if caller.ClientExtID != "demo" {
				t.Errorf("client = %q, want demo", caller.ClientExtID)
			}
			if len(caller.Assignments) != 1 {
				t.Fatalf("assignments = %+v, want 1", caller.Assignments)
			}
			a := caller.Assignments[0]
			if a.Role != c.role || !slices.Equal(a.Clients, c.clients) {
				t.Errorf("assignment = %s on %v, want %s on %v", a.Role, a.Clients, c.role, c.clients)
			}
		})
	}
}

func TestDemo_PropertyRules(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	if _, err := s.Load(ctx, bootstrap.Demo()); err != nil {
		t.Fatalf("Load(Demo()): %v", err)
	}
	cred1 := store.CredentialRef{ClientExtID: "demo", UserExtID: "self", ExtID: "cred-1"}
	cred2 := store.CredentialRef{ClientExtID: "partner", UserExtID: "partner-ops", ExtID: "cred-2"}

	cases := []struct {
		desc   string
		ref    store.CredentialRef
		change map[string]*string
		rule   store.Rule
	}{
		{"employee_id too long", cred1, map[string]*string{"employee_id": ptr("12345678901")}, store.RuleMaxLen},
		{"employee_id not digits", cred1, map[string]*string{"employee_id": ptr("12a")}, store.RuleRegex},
		{"employee_id held", cred1, map[string]*string{"employee_id": ptr("2001")}, store.RuleUnique},
		{"tier not allowed", cred1, map[string]*string{"tier": ptr("platinum")}, store.RuleAllowedValues},
		{"department on demo", cred1, map[string]*string{"department": ptr("Logistics")}, store.RuleAllowedValues},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			_, err := s.UpdateProperties(ctx, c.ref, c.change, store.OverrideAccess)
			var invalid *store.ValidationError
			if !errors.As(err, &invalid) {
				t.Fatalf("UpdateProperties error = %v, want a *store.ValidationError", err)
			}
			if got := invalid.Violations[0].Rule; got != c.rule {
				t.Errorf("rule = %v, want %v", got, c.rule)
			}
		})
	}

	t.Run("department elsewhere is free text", func(t *testing.T) {
		_, err := s.UpdateProperties(ctx, cred2, map[string]*string{"department": ptr("Shipping")}, store.EnforceAccess)
		if err != nil {
			t.Errorf("UpdateProperties: %v", err)
		}
	})

	t.Run("badge_number is read-only", func(t *testing.T) {
		_, err := s.UpdateProperties(ctx, cred1, map[string]*string{"badge_number": ptr("B-2")}, store.EnforceAccess)
		var denied *store.AccessError
		if !errors.As(err, &denied) || denied.Denials[0].Mode != store.AccessReadOnly {
			t.Errorf("UpdateProperties error = %v, want a READ_ONLY denial", err)
		}
	})

	t.Run("internal_note is hidden", func(t *testing.T) {
		props, err := s.Properties(ctx, cred1, store.EnforceAccess)
		if err != nil {
			t.Fatalf("Properties: %v", err)
		}
		if _, ok := props["internal_note"]; ok {
			t.Errorf("properties = %v, want internal_note hidden", props)
		}
		if len(props) != 4 {
			t.Errorf("properties = %v, want 4 visible values", props)
		}
	})

	t.Run("archived credential", func(t *testing.T) {
		old := store.CredentialRef{ClientExtID: "demo", UserExtID: "self", ExtID: "cred-old"}
		_, err := s.UpdateProperties(ctx, old, map[string]*string{"tier": ptr("gold")}, store.OverrideAccess)
		if !errors.Is(err, store.ErrArchived) {
			t.Errorf("UpdateProperties error = %v, want ErrArchived", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
