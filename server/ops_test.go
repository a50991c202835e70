package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"credprops/gen"
)

// serve sends req through the whole Echo stack without the spec check of
// send, for the routes that the spec embedded in gen does not list.
func (s *testServer) serve(req *http.Request) response {
	s.t.Helper()
	rec := httptest.NewRecorder()
	s.echo.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func TestOpsEndpoints_NoToken(t *testing.T) {
	cases := []struct {
		path        string
		contentType string
	}{
		{"/healthz", "application/json"},
		{"/readyz", "application/json"},
		{"/openapi.yaml", "application/yaml"},
		{"/openapi.json", "application/json"},
		{"/docs", "text/html"},
		{"/metrics", "text/plain"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			s := newTestServer(t, "")

			res := s.serve(httptest.NewRequest(http.MethodGet, c.path, nil))

			if res.status != http.StatusOK {
				t.Fatalf("GET %s status = %d, want 200; body: %.200s", c.path, res.status, res.body)
			}
			if got := res.header.Get("Content-Type"); !strings.HasPrefix(got, c.contentType) {
				t.Errorf("Content-Type = %q, want %s", got, c.contentType)
			}
		})
	}
}

func TestOpsEndpoints_ErrorDTO(t *testing.T) {
	cases := []struct {
		desc    string
		method  string
		path    string
		status  int
		code    gen.ErrorCode
		message string
	}{
		{"POST /healthz", http.MethodPost, "/healthz", http.StatusMethodNotAllowed, gen.ErrorsUnsupportedOperation,
			"Method POST is not allowed on this resource. Allowed methods: GET."},
		{"DELETE /openapi.yaml", http.MethodDelete, "/openapi.yaml", http.StatusMethodNotAllowed, gen.ErrorsUnsupportedOperation,
			"Method DELETE is not allowed on this resource. Allowed methods: GET."},
		{"POST /metrics", http.MethodPost, "/metrics", http.StatusMethodNotAllowed, gen.ErrorsUnsupportedOperation,
			"Method POST is not allowed on this resource. Allowed methods: GET."},
		{"unknown path outside the prefix", http.MethodGet, "/nope", http.StatusNotFound, gen.ErrorsInvalidUri,
			"No resource exists at path '/nope'. Check the method and path against openapi.yaml."},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, "")

			res := s.serve(httptest.NewRequest(c.method, c.path, nil))

			assertError(t, res, c.status, c.code, c.message)
		})
	}
}

func TestHealth(t *testing.T) {
	s := newTestServer(t, "")

	res := s.send(httptest.NewRequest(http.MethodGet, "/healthz", nil))

	if res.status != http.StatusOK {
		t.Fatalf("GET /healthz status = %d, want 200; body: %s", res.status, res.body)
	}
	if got := strings.TrimSpace(string(res.body)); got != `{"status":"ok"}` {
		t.Errorf("body = %s, want {\"status\":\"ok\"}", got)
	}
}

func TestReadiness(t *testing.T) {
	cases := []struct {
		desc   string
		closed bool
		status int
		body   string
	}{
		{"database answers", false, http.StatusOK, `{"database":"ok","status":"ok"}`},
		{"database closed", true, http.StatusServiceUnavailable, `{"database":"failed","status":"unavailable"}`},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, "")
			if c.closed {
				s.store.Close()
			}

			res := s.send(httptest.NewRequest(http.MethodGet, "/readyz", nil))

			if res.status != c.status {
				t.Fatalf("GET /readyz status = %d, want %d; body: %s", res.status, c.status, res.body)
			}
			if got := strings.TrimSpace(string(res.body)); got != c.body {
				t.Errorf("body = %s, want %s", got, c.body)
			}
		})
	}
}

func TestReadiness_Timeout(t *testing.T) {
	h := &handlers{
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ping: func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		},
	}

	start := time.Now()
	res, err := h.GetReadiness(context.Background(), gen.GetReadinessRequestObject{})
	elapsed := time.Since(start)

	if err != nil {
		t.Fatal(err)
	}
	got, ok := res.(gen.GetReadiness503JSONResponse)
	if !ok {
		t.Fatalf("response = %T, want GetReadiness503JSONResponse", res)
	}
	if got.Database == nil || *got.Database != gen.HealthDatabaseTimeout {
		t.Errorf("database = %v, want timeout", got.Database)
	}
	if elapsed < readyTimeout || elapsed > readyTimeout+time.Second {
		t.Errorf("readiness check took %s, want about %s", elapsed, readyTimeout)
	}
}

func TestReadiness_LogsChangesOnly(t *testing.T) {
	var logs bytes.Buffer
	results := []error{errors.New("disk I/O error"), errors.New("disk I/O error"), nil, nil}
	h := &handlers{log: slog.New(slog.NewTextHandler(&logs, nil))}
	h.ping = func(context.Context) error {
		err := results[0]
		results = results[1:]
		return err
	}

	for range 4 {
		if _, err := h.GetReadiness(context.Background(), gen.GetReadinessRequestObject{}); err != nil {
			t.Fatal(err)
		}
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2, one per change:\n%s", len(lines), logs.String())
	}
	if !strings.Contains(lines[0], "readiness check failed") || !strings.Contains(lines[0], "disk I/O error") {
		t.Errorf("first line = %s, want the failure with its cause", lines[0])
	}
	if !strings.Contains(lines[1], "readiness check passed again") {
		t.Errorf("second line = %s, want the recovery", lines[1])
	}
}

func TestOpenAPIYAML_ByteForByte(t *testing.T) {
	s := newTestServer(t, "")

	res := s.send(httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))

	if res.status != http.StatusOK {
		t.Fatalf("GET /openapi.yaml status = %d, want 200", res.status)
	}
	if !bytes.Equal(res.body, repositoryOpenAPI(t)) {
		t.Errorf("GET /openapi.yaml returned %d bytes that differ from the %d bytes of openapi.yaml",
			len(res.body), len(repositoryOpenAPI(t)))
	}
}

func TestOpenAPIJSON_MatchesYAML(t *testing.T) {
	s := newTestServer(t, "")

	res := s.send(httptest.NewRequest(http.MethodGet, "/openapi.json", nil))

	if res.status != http.StatusOK {
		t.Fatalf("GET /openapi.json status = %d, want 200", res.status)
	}
	var got any
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatalf("GET /openapi.json is not JSON: %v", err)
	}
	if want := decodeYAMLAsJSON(t, repositoryOpenAPI(t)); !reflect.DeepEqual(got, want) {
		t.Error("GET /openapi.json differs from openapi.yaml decoded as YAML")
	}
	if _, err := openapi3.NewLoader().LoadFromData(res.body); err != nil {
		t.Errorf("kin-openapi cannot load GET /openapi.json: %v", err)
	}
}

// decodeYAMLAsJSON decodes YAML whose mapping keys are all strings, then
// passes it through encoding/json, so that numbers compare as JSON's.
func decodeYAMLAsJSON(t *testing.T, data []byte) any {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	encoded, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var decoded any
	if err := json.Unmarshal(encoded, &decoded); err != nil {
		t.Fatal(err)
	}
	return decoded
}

func TestYAMLToJSON(t *testing.T) {
	cases := []struct {
		desc string
		yaml string
		want string
	}{
		{"keeps key order", "b: 1\na: 2\n", `{"b":1,"a":2}`},
		{"scalars", "s: x\ni: 42\nf: 1.5\nt: true\nn: null\nq: '200'\n",
			`{"s":"x","i":42,"f":1.5,"t":true,"n":null,"q":"200"}`},
		{"unquoted number key becomes a string", "200: ok\n", `{"200":"ok"}`},
		{"timestamp stays as written", "d: 2024-01-02\n", `{"d":"2024-01-02"}`},
		{"sequences", "l: [a, {b: c}]\n", `{"l":["a",{"b":"c"}]}`},
		{"aliases", "a: &x {k: v}\nb: *x\n", `{"a":{"k":"v"},"b":{"k":"v"}}`},
		{"no HTML escaping", "d: '<JWT> & more'\n", `{"d":"<JWT> & more"}`},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			got, err := yamlToJSON([]byte(c.yaml))
			if err != nil {
				t.Fatal(err)
			}

			var compact bytes.Buffer
			if err := json.Compact(&compact, got); err != nil {
				t.Fatal(err)
			}
			if compact.String() != c.want {
				t.Errorf("yamlToJSON = %s, want %s", compact.String(), c.want)
			}
		})
	}
}

func TestYAMLToJSON_Rejects(t *testing.T) {
	cases := []struct {
		desc string
		yaml string
	}{
		{"collection key", "? [a, b]\n: c\n"},
		{"merge key", "a: &x {k: v}\nb: {<<: *x}\n"},
		{"infinity", "f: .inf\n"},
		{"not YAML", "a: [\n"},
		{"empty", ""},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			if got, err := yamlToJSON([]byte(c.yaml)); err == nil {
				t.Errorf("yamlToJSON = %s, want an error", got)
			}
		})
	}
}

func TestDocs_ServesEmbeddedAssets(t *testing.T) {
	s := newTestServer(t, "")

	page := s.serve(httptest.NewRequest(http.MethodGet, "/docs", nil))

	if page.status != http.StatusOK {
		t.Fatalf("GET /docs status = %d, want 200", page.status)
	}
	if !bytes.Contains(page.body, []byte(`"swaggerJsonUrl":"/openapi.yaml"`)) {
		t.Errorf("the page does not load /openapi.yaml:\n%s", page.body)
	}
	links := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllSubmatch(page.body, -1)
	if len(links) < 3 {
		t.Fatalf("the page links %d assets, want its scripts and style sheet:\n%s", len(links), page.body)
	}
	for _, link := range links {
		url := string(link[1])
		if !strings.HasPrefix(url, "/docs/") {
			t.Errorf("the page links %s, want only assets under /docs/", url)
			continue
		}
		asset := s.serve(httptest.NewRequest(http.MethodGet, url, nil))
		if asset.status != http.StatusOK || len(asset.body) == 0 {
			t.Errorf("GET %s status = %d with %d bytes, want 200 with content", url, asset.status, len(asset.body))
		}
	}
}
