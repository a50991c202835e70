package access

import (
	"errors"
	"testing"
)

func TestCaller_Authorize(t *testing.T) {
	acme := Target{ClientExtID: "acme", UserExtID: "bob"}
	cases := []struct {
		desc         string
		caller       Caller
		required     []Right
		target       Target
		wantDenial   *Denial
		wantOverride bool
	}{
		{
			desc:         "root everywhere",
			caller:       Caller{Assignments: []Assignment{{Role: RoleRoot, Rights: AllRights}}},
			required:     UpdateRights,
			target:       acme,
			wantOverride: true,
		},
		{
			desc:     "admin inside dataroom",
			caller:   Caller{Assignments: []Assignment{{Rights: BuiltinRoles[RoleCredentialAdmin], Clients: []string{"acme"}}}},
			required: UpdateRights,
			target:   acme,
		},
		{
			desc:       "admin outside dataroom",
			caller:     Caller{Assignments: []Assignment{{Rights: BuiltinRoles[RoleCredentialAdmin], Clients: []string{"beta"}}}},
			required:   UpdateRights,
			target:     acme,
			wantDenial: &Denial{Right: CredentialView, Dataroom: true},
		},
		{
			desc: "missing right wins over dataroom",
			caller: Caller{Assignments: []Assignment{
				{Rights: []Right{CredentialView, PropertyView}, Clients: []string{"beta"}},
			}},
			required:   ViewRights,
			target:     acme,
			wantDenial: &Denial{Right: PropertyValueView},
		},
		{
			desc:       "first missing right in order",
			caller:     Caller{Assignments: []Assignment{{Rights: ViewRights}}},
			required:   UpdateRights,
			target:     acme,
			wantDenial: &Denial{Right: CredentialModify},
		},
		{
			desc: "rights combine across assignments",
			caller: Caller{Assignments: []Assignment{
				{Rights: []Right{CredentialView, PropertyView}},
				{Rights: []Right{PropertyValueView, PropertyAllowedValueView}, Clients: []string{"acme"}},
			}},
			required: ViewRights,
			target:   acme,
		},
		{
			desc: "override only inside its dataroom",
			caller: Caller{Assignments: []Assignment{
				{Rights: ViewRights},
				{Rights: []Right{PropertyAttributeAccessOverride}, Clients: []string{"beta"}},
			}},
			required: ViewRights,
			target:   acme,
		},
		{
			desc:     "self-admin on own user",
			caller:   Caller{UserExtID: "bob", ClientExtID: "acme", Assignments: []Assignment{{Role: RoleSelfAdmin}}},
			required: UpdateRights,
			target:   acme,
		},
		{
			desc:       "self-admin on another user",
			caller:     Caller{UserExtID: "eve", ClientExtID: "acme", Assignments: []Assignment{{Role: RoleSelfAdmin}}},
			required:   UpdateRights,
			target:     acme,
			wantDenial: &Denial{Right: CredentialView},
		},
		{
			desc:       "self-admin with same extId on another client",
			caller:     Caller{UserExtID: "bob", ClientExtID: "beta", Assignments: []Assignment{{Role: RoleSelfAdmin}}},
			required:   UpdateRights,
			target:     acme,
			wantDenial: &Denial{Right: CredentialView},
		},
		{
			desc: "self-admin never overrides access modes",
			caller: Caller{UserExtID: "bob", ClientExtID: "acme", Assignments: []Assignment{
				{Role: RoleSelfAdmin},
				{Rights: []Right{PropertyAttributeAccessOverride}},
			}},
			required: UpdateRights,
			target:   acme,
		},
		{
			desc:       "no roles",
			caller:     Caller{UserExtID: "bob", ClientExtID: "acme"},
			required:   ViewRights,
			target:     acme,
			wantDenial: &Denial{Right: CredentialView},
		},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			grant, err := c.caller.Authorize(c.required, c.target)

			var denial *Denial
			errors.As(err, &denial)
			switch {
			case c.wantDenial == nil && err != nil:
				t.Fatalf("Authorize error = %v, want none", err)
			case c.wantDenial != nil && denial == nil:
				t.Fatalf("Authorize error = %v, want %+v", err, *c.wantDenial)
			case c.wantDenial != nil && *denial != *c.wantDenial:
				t.Fatalf("denial = %+v, want %+v", *denial, *c.wantDenial)
			}
			if grant.Override != c.wantOverride {
				t.Errorf("Override = %v, want %v", grant.Override, c.wantOverride)
			}
		})
	}
}

func TestBuiltinRoles(t *testing.T) {
	admin := BuiltinRoles[RoleCredentialAdmin]
	for _, r := range append(UpdateRights, CredentialCreate, CredentialDelete) {
		if !contains(admin, r) {
			t.Errorf("CredentialAdmin lacks %s", r)
		}
	}
	if contains(admin, PropertyAttributeAccessOverride) {
		t.Errorf("CredentialAdmin has %s, want only Root to have it", PropertyAttributeAccessOverride)
	}
	if len(BuiltinRoles[RoleRoot]) != len(AllRights) {
		t.Errorf("Root has %d rights, want all %d", len(BuiltinRoles[RoleRoot]), len(AllRights))
	}
}

func contains(rights []Right, r Right) bool {
	for _, have := range rights {
		if have == r {
			return true
		}
	}
	return false
}
