package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"credprops/bootstrap"
	"credprops/gen"
)

func TestHiddenProperty_ChangeRevealsNothing(t *testing.T) {
	const denied = "Permission denied: modifying the value of property 'hidden' is not allowed (accessModify is OFF)."
	cases := []struct {
		desc string
		path string
		body string
	}{
		{"the stored value", cred1, `{"hidden":"H1"}`},
		{"another value", cred1, `{"hidden":"guess"}`},
		{"delete", cred1, `{"hidden":null}`},
		{"no value stored", credSelf, `{"hidden":"x"}`},
		{"delete with no value stored", credSelf, `{"hidden":null}`},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, authFixture)
			before := s.authSnapshot()
			user := "admin-acme"
			if c.path == credSelf {
				user = "self"
			}

			res := s.request(http.MethodPatch, c.path, user, c.body)

			assertError(t, res, http.StatusForbidden, gen.ErrorsAttrAccessForbidden, denied)
			assertAuthUnchanged(t, s, before)
		})
	}
}

func TestHiddenProperty_ClientDefinitionAddedLater(t *testing.T) {
	s := newTestServer(t, authFixture)
	seed, err := bootstrap.Parse("later.yaml", []byte(`
properties:
  - {name: note, client: acme, accessModify: 'OFF'}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.Load(context.Background(), seed); err != nil {
		t.Fatal(err)
	}

	res := s.request(http.MethodGet, cred1, "admin-acme", "")

	if res.status != http.StatusOK {
		t.Fatalf("GET status = %d, want 200; body: %s", res.status, res.body)
	}
	if _, shown := res.properties(t)["note"]; shown {
		t.Errorf("GET shows note, whose definition on client acme is OFF: %s", res.body)
	}
}

func TestUpdateProperties_Encoding(t *testing.T) {
	cases := []struct {
		desc    string
		body    string
		header  map[string]string
		status  int
		code    gen.ErrorCode
		message string
	}{
		{"invalid UTF-8", "{\"note\":\"caf\xe9\"}", nil, 400, gen.ErrorsJsonProcessingError,
			"The request body is not valid JSON: the body is not valid UTF-8. Send a JSON object that maps property names to strings or null."},
		{"lone high surrogate", `{"note":"a\ud800b"}`, nil, 400, gen.ErrorsJsonProcessingError,
			"The request body is not valid JSON: the escape at offset 10 is half of a UTF-16 surrogate pair, which is not a character. Send a JSON object that maps property names to strings or null."},
		{"lone low surrogate", `{"note":"\udc00"}`, nil, 400, gen.ErrorsJsonProcessingError, ""},
		{"latin1 charset", `{"note":"x"}`, map[string]string{"Content-Type": "application/json; charset=latin1"}, 415, gen.ErrorsUnsupportedMediaType,
			"Charset 'latin1' is not supported. Send the JSON body in UTF-8."},
		{"gzip", `{"note":"x"}`, map[string]string{"Content-Encoding": "gzip"}, 415, gen.ErrorsUnsupportedMediaType,
			"Content-Encoding 'gzip' is not supported. Send the body uncompressed."},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, "")
			before := s.snapshot()
			req := httptest.NewRequest(http.MethodPatch, cred1, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range c.header {
				req.Header.Set(k, v)
			}

			res := s.do(req)

			assertError(t, res, c.status, c.code, c.message)
			assertUnchanged(t, s, before)
		})
	}
}

func TestUpdateProperties_SurrogatePairAccepted(t *testing.T) {
	s := newTestServer(t, "")

	res := s.patch(cred1, `{"note":"\ud83d\ude00 \\ud800"}`)

	if res.status != http.StatusOK {
		t.Fatalf("PATCH status = %d, want 200; body: %s", res.status, res.body)
	}
	if got := s.stored("acme", "ops", "cred-1")["note"]; got != "😀 \\ud800" {
		t.Errorf("stored note = %q, want an emoji and a literal backslash-u text", got)
	}
}

func TestAuthentication_BeforeBodyLimit(t *testing.T) {
	big := `{"note":"` + strings.Repeat("x", bodyLimit) + `"}`
	for _, chunked := range []bool{false, true} {
		t.Run(map[bool]string{false: "with Content-Length", true: "chunked"}[chunked], func(t *testing.T) {
			s := newTestServer(t, "")
			before := s.snapshot()
			req := httptest.NewRequest(http.MethodPatch, cred1, strings.NewReader(big))
			req.Header.Set("Content-Type", "application/json")
			if chunked {
				req.ContentLength = -1
				req.TransferEncoding = []string{"chunked"}
			}

			res := s.send(req)

			assertError(t, res, http.StatusUnauthorized, gen.ErrorsInvalidJWTToken,
				"The Authorization header is missing. Send Authorization: Bearer <JWT>.")
			assertUnchanged(t, s, before)
		})
	}
}

func TestAuthentication_TwoHeaders(t *testing.T) {
	s := newTestServer(t, "")
	req := httptest.NewRequest(http.MethodGet, cred1, nil)
	req.Header.Add("Authorization", "Bearer "+token(t, "ops"))
	req.Header.Add("Authorization", "Bearer "+token(t, "bob"))

	res := s.send(req)

	assertError(t, res, http.StatusUnauthorized, gen.ErrorsInvalidJWTToken,
		"The request has more than one Authorization header. Send exactly one.")
}

func TestResponses_NotCached(t *testing.T) {
	s := newTestServer(t, "")

	res := s.get(cred1)

	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
}

// TestUpdateProperties_ClientGone shows that a request whose client has
// gone away, or only half-closed its connection, still completes instead of
// failing with 500 halfway.
func TestUpdateProperties_ClientGone(t *testing.T) {
	s := newTestServer(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodPatch, cred1, strings.NewReader(`{"note":"late"}`)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")

	res := s.do(req)

	if res.status != http.StatusOK {
		t.Fatalf("PATCH status = %d, want 200; body: %s", res.status, res.body)
	}
	if got := s.stored("acme", "ops", "cred-1")["note"]; got != "late" {
		t.Errorf("stored note = %q, want late", got)
	}
}
