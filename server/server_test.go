package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"credprops/auth"
	"credprops/bootstrap"
	"credprops/gen"
	"credprops/store"
)

// fixture is the data every handler test starts from.
const fixture = `
clients:
  - {extId: acme, name: ACME}
  - {extId: beta, name: Beta}
users:
  - {extId: ops, client: acme, roles: [{name: Root}]}
  - {extId: bob, client: beta}
properties:
  - {name: employee_id, type: STRING, stringMaxLen: 10, stringRegex: '[0-9]+', uniquenessScope: ABSOLUTE}
  - {name: tier, type: ENUM, allowedValues: [gold, silver]}
  - {name: note}
  - {name: nick, stringMaxLen: 3}
  - {name: nick, client: acme, stringMaxLen: 6}
credentials:
  - {extId: cred-1, user: ops, identification: ops-1, stateName: active, properties: {employee_id: "123", tier: gold}}
  - {extId: cred-2, user: ops, identification: ops-2, stateName: active, properties: {employee_id: "456"}}
  - {extId: cred-old, user: ops, identification: ops-old, stateName: archived, properties: {note: kept}}
  - {extId: cred-b, user: bob, identification: bob-1, stateName: active}
`

const basePath = "/nevisidm/api/core/v1"

func credPath(client, user, cred string) string {
	return basePath + "/" + client + "/users/" + user + "/generic-credentials/" + cred + "/properties"
}

var cred1 = credPath("acme", "ops", "cred-1")

// testSecret is the HS256 key of test servers.
var testSecret = []byte("test-secret-of-at-least-32-bytes!")

type testServer struct {
	t      *testing.T
	echo   *echo.Echo
	store  *store.Store
	router routers.Router
	spec   *openapi3.T
}

// token returns a one-hour HS256 token for the user extId.
func token(t *testing.T, user string) string {
	t.Helper()
	signed, err := auth.Sign(testSecret, user, time.Hour, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// newTestServer starts the real Echo stack on a fresh SQLite file loaded
// with data, the fixture when data is empty.
func newTestServer(t *testing.T, data string) *testServer {
	t.Helper()
	return newLoggingTestServer(t, data, io.Discard)
}

// newLoggingTestServer is newTestServer with its logs written to w as JSON
// lines.
func newLoggingTestServer(t *testing.T, data string, w io.Writer) *testServer {
	t.Helper()
	if data == "" {
		data = fixture
	}
	ctx := context.Background()
	log := slog.New(slog.NewJSONHandler(w, nil))

	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "test.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	seed, err := bootstrap.Parse("fixture.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(ctx, seed); err != nil {
		t.Fatal(err)
	}

	verifier, err := auth.NewVerifier(auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{Store: st, Verifier: verifier, Logger: log, OpenAPI: repositoryOpenAPI(t)})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	spec.Servers = nil
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{t: t, echo: e, store: st, router: router, spec: spec}
}

// repositoryOpenAPI returns the repository's openapi.yaml, the file that
// the credprops binary embeds, for Config.OpenAPI.
func repositoryOpenAPI(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errorDTO(t *testing.T) gen.ErrorDTO {
	t.Helper()
	var dto gen.ErrorDTO
	if err := json.Unmarshal(r.body, &dto); err != nil {
		t.Fatalf("decode ErrorDTO from %s: %v", r.body, err)
	}
	return dto
}

func (r response) properties(t *testing.T) map[string]string {
	t.Helper()
	var props map[string]string
	if err := json.Unmarshal(r.body, &props); err != nil {
		t.Fatalf("decode properties from %s: %v", r.body, err)
	}
	return props
}

// do sends a request as the Root user ops, unless it has an Authorization
// header already, and validates the response against openapi.yaml.
func (s *testServer) do(req *http.Request) response {
	s.t.Helper()
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+token(s.t, "ops"))
	}
	return s.send(req)
}

// send sends a request as it is through the whole Echo stack and validates
// the response against openapi.yaml.
func (s *testServer) send(req *http.Request) response {
	s.t.Helper()
	rec := httptest.NewRecorder()
	s.echo.ServeHTTP(rec, req)
	res := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	s.validate(req, res)
	return res
}

func (s *testServer) get(path string) response {
	s.t.Helper()
	return s.do(httptest.NewRequest(http.MethodGet, path, nil))
}

func (s *testServer) patch(path, body string) response {
	s.t.Helper()
	req := httptest.NewRequest(http.MethodPatch, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return s.do(req)
}

func (s *testServer) validate(req *http.Request, res response) {
	s.t.Helper()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		// No operation: the body must still be an ErrorDTO.
		var v any
		if err := json.Unmarshal(res.body, &v); err != nil {
			s.t.Fatalf("response %d is not JSON: %s", res.status, res.body)
		}
		if err := s.spec.Components.Schemas["ErrorDTO"].Value.VisitJSON(v); err != nil {
			s.t.Fatalf("response %d does not match ErrorDTO: %v", res.status, err)
		}
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
			Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  res.status,
		Header:  res.header,
		Body:    io.NopCloser(bytes.NewReader(res.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		s.t.Fatalf("response %d does not match openapi.yaml: %v\nbody: %s", res.status, err, res.body)
	}
}

// stored returns a credential's properties as stored, access modes aside.
func (s *testServer) stored(client, user, cred string) map[string]string {
	s.t.Helper()
	props, err := s.store.Properties(context.Background(),
		store.CredentialRef{ClientExtID: client, UserExtID: user, ExtID: cred}, store.OverrideAccess)
	if err != nil {
		s.t.Fatal(err)
	}
	return props
}

// snapshot returns every credential's stored properties, to show that a
// rejected request changed nothing.
func (s *testServer) snapshot() map[string]map[string]string {
	s.t.Helper()
	all := map[string]map[string]string{}
	for _, c := range [][3]string{
		{"acme", "ops", "cred-1"}, {"acme", "ops", "cred-2"},
		{"acme", "ops", "cred-old"}, {"beta", "bob", "cred-b"},
	} {
		all[c[2]] = s.stored(c[0], c[1], c[2])
	}
	return all
}

func assertError(t *testing.T, res response, status int, code gen.ErrorCode, message string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d; body: %s", res.status, status, res.body)
	}
	dto := res.errorDTO(t)
	if len(dto.Errors) != 1 {
		t.Fatalf("got %d errors, want 1: %s", len(dto.Errors), res.body)
	}
	if dto.Errors[0].Code != code {
		t.Errorf("code = %s, want %s", dto.Errors[0].Code, code)
	}
	if message != "" && dto.Errors[0].Message != message {
		t.Errorf("message = %q, want %q", dto.Errors[0].Message, message)
	}
}

func assertUnchanged(t *testing.T, s *testServer, before map[string]map[string]string) {
	t.Helper()
	after := s.snapshot()
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(after)
	if !bytes.Equal(a, b) {
		t.Errorf("stored data changed:\nbefore %s\nafter  %s", a, b)
	}
}

func assertProps(t *testing.T, got, want map[string]string) {
	t.Helper()
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if !bytes.Equal(a, b) {
		t.Errorf("properties = %s, want %s", a, b)
	}
}
