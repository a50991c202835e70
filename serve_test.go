package main

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestServe_OpsEndpoints(t *testing.T) {
	p := startServe(t)
	cases := []struct {
		path string
		want string
	}{
		{"/healthz", `{"status":"ok"}`},
		{"/readyz", `{"database":"ok","status":"ok"}`},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			status, body := call(t, http.MethodGet, "http://"+p.addr+c.path, "", "")

			if status != http.StatusOK || strings.TrimSpace(body) != c.want {
				t.Errorf("GET %s = %d %s, want 200 %s", c.path, status, body, c.want)
			}
		})
	}
}

// TestServe_OpenAPIIsRepositoryFile shows that the binary serves the
// openapi.yaml of the repository, byte for byte.
func TestServe_OpenAPIIsRepositoryFile(t *testing.T) {
	p := startServe(t)
	want, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}

	status, body := call(t, http.MethodGet, "http://"+p.addr+"/openapi.yaml", "", "")

	if status != http.StatusOK {
		t.Fatalf("GET /openapi.yaml status = %d, want 200", status)
	}
	if body != string(want) {
		t.Errorf("GET /openapi.yaml returned %d bytes that differ from the %d bytes of openapi.yaml", len(body), len(want))
	}
}
