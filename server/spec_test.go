package server

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestSpec_RepositoryFileIsValid(t *testing.T) {
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}

	if err := spec.Validate(context.Background()); err != nil {
		t.Errorf("openapi.yaml is invalid: %v", err)
	}
}

func TestSpec_EmbeddedIsValid(t *testing.T) {
	if _, err := Spec(); err != nil {
		t.Errorf("Spec() error = %v", err)
	}
}

// TestSpec_ExamplesMatchSchemas validates every named example against the
// schema of its response, so the examples cannot drift from the contract.
func TestSpec_ExamplesMatchSchemas(t *testing.T) {
	spec, err := Spec()
	if err != nil {
		t.Fatal(err)
	}

	for name, resp := range spec.Components.Responses {
		media := resp.Value.Content.Get("application/json")
		if media == nil {
			continue
		}
		for exName, ex := range media.Examples {
			if err := media.Schema.Value.VisitJSON(ex.Value.Value); err != nil {
				t.Errorf("response %s example %s: %v", name, exName, err)
			}
		}
	}
}

func TestSecuredRoutes(t *testing.T) {
	spec, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	const properties = "/nevisidm/api/core/v1/:clientExtId/users/:userExtId/generic-credentials/:extId/properties"

	secured := securedRoutes(spec)

	for _, route := range []string{"GET " + properties, "PATCH " + properties} {
		if !secured[route] {
			t.Errorf("%s is not secured, want it to need a bearer token", route)
		}
	}
	if secured["GET /healthz"] {
		t.Error("GET /healthz is secured, want it open")
	}
	if len(secured) != 2 {
		t.Errorf("%d secured routes, want 2: %v", len(secured), secured)
	}
}
