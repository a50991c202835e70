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
