package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// logLines decodes the JSON log lines in logs.
func logLines(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	scanner := bufio.NewScanner(bytes.NewReader(logs.Bytes()))
	for scanner.Scan() {
		var line map[string]any
		if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %s", scanner.Text())
		}
		lines = append(lines, line)
	}
	return lines
}

// accessLines returns the access log lines in logs.
func accessLines(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, line := range logLines(t, logs) {
		if line["msg"] == "request" {
			lines = append(lines, line)
		}
	}
	return lines
}

func TestAccessLog_OneLinePerRequest(t *testing.T) {
	cases := []struct {
		desc   string
		method string
		path   string
		user   string
		route  string
		status float64
	}{
		{"authenticated", http.MethodGet, cred1, "ops", propertiesRoute, 200},
		{"authenticated but forbidden", http.MethodPatch, credPath("beta", "bob", "cred-b"), "bob", propertiesRoute, 403},
		{"no token", http.MethodGet, cred1, "", propertiesRoute, 401},
		{"no route", http.MethodGet, "/nope", "", "none", 404},
		{"health", http.MethodGet, "/healthz", "", "/healthz", 200},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			var logs bytes.Buffer
			s := newLoggingTestServer(t, "", &logs)
			req := httptest.NewRequest(c.method, c.path, strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			if c.user != "" {
				req.Header.Set("Authorization", "Bearer "+token(t, c.user))
			}

			res := s.serve(req)

			lines := accessLines(t, &logs)
			if len(lines) != 1 {
				t.Fatalf("got %d access log lines, want 1:\n%s", len(lines), logs.String())
			}
			line := lines[0]
			if line["request_id"] != res.header.Get("X-Request-Id") {
				t.Errorf("request_id = %v, want the X-Request-Id response header %q", line["request_id"], res.header.Get("X-Request-Id"))
			}
			if line["method"] != c.method {
				t.Errorf("method = %v, want %s", line["method"], c.method)
			}
			if line["route"] != c.route {
				t.Errorf("route = %v, want %s", line["route"], c.route)
			}
			if line["status"] != c.status {
				t.Errorf("status = %v, want %v", line["status"], c.status)
			}
			if _, ok := line["duration"].(float64); !ok {
				t.Errorf("duration = %v, want a number of nanoseconds", line["duration"])
			}
			caller, logged := line["caller"]
			if c.user != "" && caller != c.user {
				t.Errorf("caller = %v, want %s", caller, c.user)
			}
			if c.user == "" && logged {
				t.Errorf("caller = %v, want none for a request without a token", caller)
			}
		})
	}
}

func TestAccessLog_PanicIsLoggedAs500(t *testing.T) {
	var logs bytes.Buffer
	s := newLoggingTestServer(t, "", &logs)
	// Replace the metrics handler, because the validator skips its route.
	s.echo.GET(metricsRoute, func(echo.Context) error { panic("boom") })

	res := s.serve(httptest.NewRequest(http.MethodGet, metricsRoute, nil))

	if res.status != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", res.status)
	}
	lines := accessLines(t, &logs)
	if len(lines) != 1 || lines[0]["status"] != 500.0 {
		t.Errorf("access log lines = %v, want one with status 500", lines)
	}
}

func TestRequestID(t *testing.T) {
	long := strings.Repeat("a", maxRequestIDLen)
	cases := []struct {
		desc     string
		incoming string
		kept     bool
	}{
		{"absent", "", false},
		{"UUID", "3f9a2c7e-1b4d-4c1e-9d2a-0b6f8e7a5c31", true},
		{"base64", "q1w2e3+r4t5/y6u7==", true},
		{"at the maximum length", long, true},
		{"too long", long + "a", false},
		{"space", "abc def", false},
		{"newline", "abc\nlevel=ERROR msg=forged", false},
		{"quote", `abc"`, false},
		{"not ASCII", "abcé", false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			var logs bytes.Buffer
			s := newLoggingTestServer(t, "", &logs)
			req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			if c.incoming != "" {
				req.Header["X-Request-Id"] = []string{c.incoming}
			}

			res := s.serve(req)

			got := res.header.Get("X-Request-Id")
			if c.kept && got != c.incoming {
				t.Errorf("X-Request-Id = %q, want the incoming %q", got, c.incoming)
			}
			if !c.kept && (got == c.incoming || !validRequestID(got)) {
				t.Errorf("X-Request-Id = %q, want a new valid ID in place of %q", got, c.incoming)
			}
			lines := accessLines(t, &logs)
			if len(lines) != 1 || lines[0]["request_id"] != got {
				t.Errorf("access log = %v, want one line with request_id %q", lines, got)
			}
		})
	}
}

func TestRequestID_NewOnesDiffer(t *testing.T) {
	s := newTestServer(t, "")

	first := s.serve(httptest.NewRequest(http.MethodGet, "/healthz", nil)).header.Get("X-Request-Id")
	second := s.serve(httptest.NewRequest(http.MethodGet, "/healthz", nil)).header.Get("X-Request-Id")

	if first == second {
		t.Errorf("two requests got the same X-Request-Id %q", first)
	}
}

// TestLogs_NoSecrets sends requests that carry a token and property values
// down every path that logs, and checks that none of them reaches the log.
func TestLogs_NoSecrets(t *testing.T) {
	var logs bytes.Buffer
	s := newLoggingTestServer(t, "", &logs)
	bearer := token(t, "ops")
	secrets := []string{
		bearer,
		bearer[strings.LastIndex(bearer, ".")+1:], // the signature
		string(testSecret),
		"value-4711-kept",
		"value-4712-too-long-for-nick",
		"value-4713-gold",
	}
	requests := []struct {
		method string
		path   string
		body   string
	}{
		{http.MethodPatch, cred1, `{"note":"value-4711-kept"}`},
		{http.MethodPatch, cred1, `{"nick":"value-4712-too-long-for-nick","tier":"value-4713-gold"}`},
		{http.MethodPatch, cred1, `{"note":` + `"value-4711-kept"` + `,}`},
		{http.MethodGet, cred1, ""},
		{http.MethodGet, "/metrics", ""},
	}
	send := func() {
		for _, r := range requests {
			req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+bearer)
			s.serve(req)
		}
	}

	send()
	s.store.Close() // every request below fails with 500 and logs its cause
	send()

	if !strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Fatalf("no error was logged, want the 500s' causes:\n%s", logs.String())
	}
	for _, secret := range secrets {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs.String())
		}
	}
}
