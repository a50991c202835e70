package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"credprops/access"
	"credprops/store"
)

func TestStore_Caller(t *testing.T) {
	s := openStore(t)
	mustLoad(t, s, store.Seed{
		Clients: []store.SeedClient{{ExtID: "acme", Name: "ACME"}, {ExtID: "beta", Name: "Beta"}},
		Roles:   []store.SeedRole{{Name: "Editor", Rights: []access.Right{access.PropertyView}}},
		Users: []store.SeedUser{
			{ExtID: "ops", Client: "acme", Roles: []store.SeedRoleAssignment{
				{Name: access.RoleCredentialViewer, Clients: []string{"acme", "beta"}},
				{Name: "Editor"},
			}},
			{ExtID: "bare", Client: "beta"},
		},
	})

	cases := []struct {
		desc string
		user string
		want *access.Caller
	}{
		{"roles and datarooms", "ops", &access.Caller{
			UserExtID: "ops", ClientExtID: "acme",
			Assignments: []access.Assignment{
				{Role: access.RoleCredentialViewer, Rights: access.ViewRights, Clients: []string{"acme", "beta"}},
				{Role: "Editor", Rights: []access.Right{access.PropertyView}},
			},
		}},
		{"no roles", "bare", &access.Caller{UserExtID: "bare", ClientExtID: "beta"}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			got, err := s.Caller(context.Background(), c.user)

			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Caller = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestStore_Caller_Unknown(t *testing.T) {
	s := openStore(t)

	_, err := s.Caller(context.Background(), "ghost")

	if !errors.Is(err, store.ErrUnknownUser) {
		t.Errorf("Caller error = %v, want ErrUnknownUser", err)
	}
}

func TestStore_Secret(t *testing.T) {
	s := openStore(t)

	first, err := s.Secret(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Secret(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}

	if len(first) < 43 {
		t.Errorf("secret has %d characters, want 43 (256 bits, base64)", len(first))
	}
	if first != second {
		t.Error("second Secret call returned another value, want the stored one")
	}
}
