package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"credprops/auth"
	"credprops/bootstrap"
	"credprops/store"
)

// benchFixture has one Root caller and one credential with ten plain
// STRING properties, so that GET returns ten values and PATCH can change
// one or ten of them without a uniqueness check.
var benchFixture = func() string {
	var b strings.Builder
	b.WriteString("clients:\n  - {extId: acme, name: ACME}\n")
	b.WriteString("users:\n  - {extId: ops, client: acme, roles: [{name: Root}]}\n")
	b.WriteString("properties:\n")
	for i := range 10 {
		fmt.Fprintf(&b, "  - {name: %s, stringMaxLen: 64}\n", benchProperty(i))
	}
	b.WriteString("credentials:\n  - {extId: cred-1, user: ops, identification: ops-1, properties: {")
	for i := range 10 {
		fmt.Fprintf(&b, "%s: initial-value-%d, ", benchProperty(i), i)
	}
	b.WriteString("}}\n")
	return b.String()
}()

func benchProperty(i int) string { return fmt.Sprintf("prop%02d", i) }

// newBenchServer builds the Echo stack of newTestServer on benchFixture.
// A benchmark cannot call newTestServer, which takes a *testing.T. Logs are
// formatted as in production and then discarded.
func newBenchServer(b *testing.B) (*echo.Echo, *store.Store) {
	b.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })

	seed, err := bootstrap.Parse("bench.yaml", []byte(benchFixture))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Load(ctx, seed); err != nil {
		b.Fatal(err)
	}

	verifier, err := auth.NewVerifier(auth.Config{Secret: testSecret})
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(Config{Store: st, Verifier: verifier, Logger: log, OpenAPI: repositoryOpenAPI(b)})
	if err != nil {
		b.Fatal(err)
	}
	return e, st
}

func benchToken(b *testing.B) string {
	b.Helper()
	signed, err := auth.Sign(testSecret, "ops", time.Hour, "", "")
	if err != nil {
		b.Fatal(err)
	}
	return "Bearer " + signed
}

// patchBodies returns two bodies that set the first n properties to
// different values, so that alternating them makes every request a real
// write instead of a no-op.
func patchBodies(n int) [2]string {
	var bodies [2]string
	for k, value := range []string{"a", "b"} {
		parts := make([]string, n)
		for i := range n {
			parts[i] = fmt.Sprintf("%q:%q", benchProperty(i), value)
		}
		bodies[k] = "{" + strings.Join(parts, ",") + "}"
	}
	return bodies
}

// BenchmarkGetProperties reads ten values of one credential, through the
// whole Echo stack (http) and through the store alone (store).
func BenchmarkGetProperties(b *testing.B) {
	b.Run("http", func(b *testing.B) {
		e, _ := newBenchServer(b)
		authorization := benchToken(b)
		b.ReportAllocs()

		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, cred1, nil)
			req.Header.Set("Authorization", authorization)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("GET status = %d, want 200; body: %s", rec.Code, rec.Body)
			}
		}
	})

	b.Run("store", func(b *testing.B) {
		_, st := newBenchServer(b)
		ctx := context.Background()
		ref := store.CredentialRef{ClientExtID: "acme", UserExtID: "ops", ExtID: "cred-1"}
		b.ReportAllocs()

		for b.Loop() {
			if _, err := st.Properties(ctx, ref, store.OverrideAccess); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPatchProperties changes one or ten values of one credential per
// request, through the whole Echo stack (http) and through the store alone
// (store). Each request commits one write transaction.
func BenchmarkPatchProperties(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("http/props=%d", n), func(b *testing.B) {
			e, _ := newBenchServer(b)
			authorization := benchToken(b)
			bodies := patchBodies(n)
			b.ReportAllocs()

			for i := 0; b.Loop(); i++ {
				req := httptest.NewRequest(http.MethodPatch, cred1, strings.NewReader(bodies[i%2]))
				req.Header.Set("Authorization", authorization)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("PATCH status = %d, want 200; body: %s", rec.Code, rec.Body)
				}
			}
		})

		b.Run(fmt.Sprintf("store/props=%d", n), func(b *testing.B) {
			_, st := newBenchServer(b)
			ctx := context.Background()
			ref := store.CredentialRef{ClientExtID: "acme", UserExtID: "ops", ExtID: "cred-1"}
			var changes [2]map[string]*string
			for k, value := range []string{"a", "b"} {
				changes[k] = map[string]*string{}
				for i := range n {
					changes[k][benchProperty(i)] = &value
				}
			}
			b.ReportAllocs()

			for i := 0; b.Loop(); i++ {
				if _, err := st.UpdateProperties(ctx, ref, changes[i%2], store.OverrideAccess); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
