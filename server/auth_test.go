package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"credprops/auth"
	"credprops/gen"
)

// authFixture has a caller for each kind of right and a property for each
// access mode.
const authFixture = `
clients:
  - {extId: acme, name: ACME}
  - {extId: beta, name: Beta}
roles:
  - name: Auditor
    rights: [AccessControl.CredentialView, AccessControl.PropertyView, AccessControl.PropertyValueView, AccessControl.PropertyAllowedValueView]
  - {name: HalfViewer, rights: [AccessControl.CredentialView, AccessControl.PropertyView]}
users:
  - {extId: ops, client: acme, roles: [{name: Root}]}
  - {extId: bob, client: beta}
  - {extId: admin-acme, client: acme, roles: [{name: CredentialAdmin, clients: [acme]}]}
  - {extId: viewer, client: acme, roles: [{name: CredentialViewer}]}
  - {extId: auditor, client: beta, roles: [{name: Auditor}]}
  - {extId: half, client: acme, roles: [{name: HalfViewer}]}
  - {extId: nobody, client: acme}
  - {extId: self, client: acme, roles: [{name: SelfAdmin}]}
properties:
  - {name: note}
  - {name: badge, accessModify: READ_ONLY}
  - {name: serial, accessCreate: READ_ONLY}
  - {name: hidden, accessModify: OFF}
credentials:
  - {extId: cred-1, user: ops, identification: ops-1, properties: {note: n1, badge: B1, hidden: H1}}
  - {extId: cred-b, user: bob, identification: bob-1, properties: {note: nb}}
  - {extId: cred-self, user: self, identification: self-1, properties: {note: mine, badge: S1}}
`

var (
	credB    = credPath("beta", "bob", "cred-b")
	credSelf = credPath("acme", "self", "cred-self")
)

func (s *testServer) request(method, path, user, body string) response {
	s.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token(s.t, user))
	return s.send(req)
}

func (s *testServer) authSnapshot() map[string]map[string]string {
	s.t.Helper()
	return map[string]map[string]string{
		"cred-1":    s.stored("acme", "ops", "cred-1"),
		"cred-b":    s.stored("beta", "bob", "cred-b"),
		"cred-self": s.stored("acme", "self", "cred-self"),
	}
}

func assertAuthUnchanged(t *testing.T, s *testServer, before map[string]map[string]string) {
	t.Helper()
	after := s.authSnapshot()
	for cred, props := range before {
		assertProps(t, after[cred], props)
	}
}

func TestAuthorization(t *testing.T) {
	const (
		missing  = "Permission denied: Caller does not have the required right '%s' to perform this action"
		dataroom = "Permission denied: AccessControl.CredentialView"
	)
	patchBody := `{"note":"changed"}`
	cases := []struct {
		desc    string
		user    string
		method  string
		path    string
		status  int
		code    gen.ErrorCode
		message string
	}{
		{"Root reads", "ops", http.MethodGet, cred1, 200, "", ""},
		{"Root updates", "ops", http.MethodPatch, cred1, 200, "", ""},
		{"Root on another client", "ops", http.MethodPatch, credB, 200, "", ""},
		{"admin reads inside dataroom", "admin-acme", http.MethodGet, cred1, 200, "", ""},
		{"admin updates inside dataroom", "admin-acme", http.MethodPatch, cred1, 200, "", ""},
		{"admin reads outside dataroom", "admin-acme", http.MethodGet, credB, 403, gen.ErrorsCombinedDataroomDenied, dataroom},
		{"admin updates outside dataroom", "admin-acme", http.MethodPatch, credB, 403, gen.ErrorsCombinedDataroomDenied, dataroom},
		{"admin on a client that does not exist", "admin-acme", http.MethodGet, credPath("ghost", "bob", "cred-b"), 403, gen.ErrorsCombinedDataroomDenied, dataroom},
		{"admin gets 404 inside dataroom", "admin-acme", http.MethodGet, credPath("acme", "ops", "nope"), 404, gen.ErrorsNoRecord,
			"Generic credential with the extId nope does not exist under the user ops"},
		{"viewer reads", "viewer", http.MethodGet, credB, 200, "", ""},
		{"viewer cannot update", "viewer", http.MethodPatch, cred1, 403, gen.ErrorsInsufficientRightsFunction,
			strings.Replace(missing, "%s", "AccessControl.CredentialModify", 1)},
		{"custom role reads", "auditor", http.MethodGet, cred1, 200, "", ""},
		{"custom role cannot update", "auditor", http.MethodPatch, cred1, 403, gen.ErrorsInsufficientRightsFunction,
			strings.Replace(missing, "%s", "AccessControl.CredentialModify", 1)},
		{"partial custom role", "half", http.MethodGet, cred1, 403, gen.ErrorsInsufficientRightsFunction,
			strings.Replace(missing, "%s", "AccessControl.PropertyValueView", 1)},
		{"no roles reads", "nobody", http.MethodGet, cred1, 403, gen.ErrorsInsufficientRightsFunction,
			strings.Replace(missing, "%s", "AccessControl.CredentialView", 1)},
		{"no roles updates", "nobody", http.MethodPatch, cred1, 403, gen.ErrorsInsufficientRightsFunction,
			strings.Replace(missing, "%s", "AccessControl.CredentialView", 1)},
		{"no roles before not found", "nobody", http.MethodGet, credPath("ghost", "x", "y"), 403, gen.ErrorsInsufficientRightsFunction,
			strings.Replace(missing, "%s", "AccessControl.CredentialView", 1)},
		{"self reads own", "self", http.MethodGet, credSelf, 200, "", ""},
		{"self updates own", "self", http.MethodPatch, credSelf, 200, "", ""},
		{"self reads another's", "self", http.MethodGet, cred1, 403, gen.ErrorsInsufficientRightsFunction,
			strings.Replace(missing, "%s", "AccessControl.CredentialView", 1)},
		{"self updates another's", "self", http.MethodPatch, cred1, 403, gen.ErrorsInsufficientRightsFunction,
			strings.Replace(missing, "%s", "AccessControl.CredentialView", 1)},
		{"self on own extId under another client", "self", http.MethodGet, credPath("beta", "self", "cred-self"), 403, gen.ErrorsInsufficientRightsFunction,
			strings.Replace(missing, "%s", "AccessControl.CredentialView", 1)},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, authFixture)
			before := s.authSnapshot()
			body := ""
			if c.method == http.MethodPatch {
				body = patchBody
			}

			res := s.request(c.method, c.path, c.user, body)

			if c.status == http.StatusOK {
				if res.status != http.StatusOK {
					t.Fatalf("%s status = %d, want 200; body: %s", c.method, res.status, res.body)
				}
				if c.method == http.MethodPatch && res.properties(t)["note"] != "changed" {
					t.Errorf("note = %q, want changed", res.properties(t)["note"])
				}
				return
			}
			assertError(t, res, c.status, c.code, c.message)
			assertAuthUnchanged(t, s, before)
		})
	}
}

func TestPropertyAccess(t *testing.T) {
	cases := []struct {
		desc    string
		user    string
		path    string
		body    string
		status  int
		message string
	}{
		{"modify READ_ONLY", "admin-acme", cred1, `{"badge":"B2"}`, 403,
			"Permission denied: modifying the value of property 'badge' is not allowed (accessModify is READ_ONLY)."},
		{"delete READ_ONLY", "admin-acme", cred1, `{"badge":null}`, 403,
			"Permission denied: modifying the value of property 'badge' is not allowed (accessModify is READ_ONLY)."},
		{"create READ_ONLY", "admin-acme", cred1, `{"serial":"S"}`, 403,
			"Permission denied: creating the value of property 'serial' is not allowed (accessCreate is READ_ONLY)."},
		{"modify OFF", "admin-acme", cred1, `{"hidden":"H2"}`, 403,
			"Permission denied: modifying the value of property 'hidden' is not allowed (accessModify is OFF)."},
		{"access before validation", "admin-acme", cred1, `{"badge":"B2","unknown":"x"}`, 403,
			"Permission denied: modifying the value of property 'badge' is not allowed (accessModify is READ_ONLY)."},
		{"self-admin is bound by access modes", "self", credSelf, `{"badge":"S2"}`, 403,
			"Permission denied: modifying the value of property 'badge' is not allowed (accessModify is READ_ONLY)."},
		{"override modifies READ_ONLY", "ops", cred1, `{"badge":"B2"}`, 200, ""},
		{"override creates READ_ONLY", "ops", cred1, `{"serial":"S"}`, 200, ""},
		{"re-setting the stored value is no change", "admin-acme", cred1, `{"badge":"B1"}`, 200, ""},
		{"creating a modify-only property", "admin-acme", credB, `{"badge":"new"}`, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, authFixture)
			if c.desc == "creating a modify-only property" {
				// admin-acme's dataroom is acme: widen it with a Root token.
				c.user = "ops"
			}
			before := s.authSnapshot()

			res := s.request(http.MethodPatch, c.path, c.user, c.body)

			if c.status == http.StatusOK {
				if res.status != http.StatusOK {
					t.Fatalf("PATCH status = %d, want 200; body: %s", res.status, res.body)
				}
				return
			}
			assertError(t, res, c.status, gen.ErrorsAttrAccessForbidden, c.message)
			assertAuthUnchanged(t, s, before)
		})
	}
}

func TestOffValuesHidden(t *testing.T) {
	cases := []struct {
		desc string
		user string
		want map[string]string
	}{
		{"without override", "admin-acme", map[string]string{"note": "n1", "badge": "B1"}},
		{"with override", "ops", map[string]string{"note": "n1", "badge": "B1", "hidden": "H1"}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, authFixture)

			get := s.request(http.MethodGet, cred1, c.user, "")
			patch := s.request(http.MethodPatch, cred1, c.user, `{}`)

			assertProps(t, get.properties(t), c.want)
			assertProps(t, patch.properties(t), c.want)
		})
	}
}

// signWith signs claims with any method and key, for token fault cases.
func signWith(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	signed, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestAuthentication(t *testing.T) {
	hour := time.Now().Add(time.Hour).Unix()
	cases := []struct {
		desc    string
		header  string
		message string
	}{
		{"no token", "", "The Authorization header is missing. Send Authorization: Bearer <JWT>."},
		{"not bearer", "Basic b3BzOnB3", "The Authorization header is not a bearer token. Send Authorization: Bearer <JWT>."},
		{"empty bearer", "Bearer ", "The Authorization header is not a bearer token. Send Authorization: Bearer <JWT>."},
		{"malformed", "Bearer not.a.jwt", "The bearer token is not a well-formed JWT."},
		{"bad signature", "Bearer " + signWith(t, jwt.SigningMethodHS256, []byte("another-secret-of-at-least-32-bytes"),
			jwt.MapClaims{"sub": "ops", "exp": hour}), "The bearer token's signature is invalid."},
		{"expired", "Bearer " + signWith(t, jwt.SigningMethodHS256, testSecret,
			jwt.MapClaims{"sub": "ops", "exp": time.Now().Add(-time.Hour).Unix()}), "The bearer token has expired. Get a new token."},
		{"no exp", "Bearer " + signWith(t, jwt.SigningMethodHS256, testSecret,
			jwt.MapClaims{"sub": "ops"}), "The bearer token has no exp claim. Tokens must expire."},
		{"alg none", "Bearer " + signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType,
			jwt.MapClaims{"sub": "ops", "exp": hour}), "The bearer token's signing algorithm is not accepted. Accepted algorithms: HS256."},
		{"HS384 not configured", "Bearer " + signWith(t, jwt.SigningMethodHS384, testSecret,
			jwt.MapClaims{"sub": "ops", "exp": hour}), "The bearer token's signing algorithm is not accepted. Accepted algorithms: HS256."},
		{"no sub", "Bearer " + signWith(t, jwt.SigningMethodHS256, testSecret,
			jwt.MapClaims{"exp": hour}), "The bearer token has no sub claim. The sub claim must name the caller's user extId."},
		{"unknown user", "Bearer " + signWith(t, jwt.SigningMethodHS256, testSecret,
			jwt.MapClaims{"sub": "ghost", "exp": hour}), "The bearer token's sub claim names no existing user."},
	}
	for _, c := range cases {
		for _, method := range []string{http.MethodGet, http.MethodPatch} {
			t.Run(c.desc+" "+method, func(t *testing.T) {
				s := newTestServer(t, authFixture)
				before := s.authSnapshot()
				// A malformed body shows that authentication comes first.
				req := httptest.NewRequest(method, cred1, strings.NewReader(`{"note":`))
				req.Header.Set("Content-Type", "application/json")
				if c.header != "" {
					req.Header.Set("Authorization", c.header)
				}

				res := s.send(req)

				assertError(t, res, http.StatusUnauthorized, gen.ErrorsInvalidJWTToken, c.message)
				if got := res.header.Get(echo.HeaderWWWAuthenticate); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want Bearer", got)
				}
				if strings.Contains(string(res.body), strings.TrimPrefix(c.header, "Bearer ")) && len(c.header) > 20 {
					t.Errorf("body repeats the token: %s", res.body)
				}
				assertAuthUnchanged(t, s, before)
			})
		}
	}
}

func TestValidationAfterAuthentication(t *testing.T) {
	s := newTestServer(t, authFixture)
	before := s.authSnapshot()

	// A caller without rights still gets the 400 of a malformed body.
	res := s.request(http.MethodPatch, cred1, "nobody", `{"note":`)

	assertError(t, res, http.StatusBadRequest, gen.ErrorsJsonProcessingError, "")
	assertAuthUnchanged(t, s, before)
}

// newKeyedServer starts a server that accepts RS256 and ES256 tokens of
// keys written to keysFile, and checks issuer and audience.
func newKeyedServer(t *testing.T, keysFile string) *testServer {
	t.Helper()
	s := newTestServer(t, authFixture)
	verifier, err := auth.NewVerifier(auth.Config{
		Secret: testSecret, KeysFile: keysFile, Issuer: "https://idp.test", Audience: "credprops",
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := New(Config{Store: s.store, Verifier: verifier, Logger: log, OpenAPI: repositoryOpenAPI(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.echo = e
	return s
}

func writePEM(t *testing.T, keys ...any) string {
	t.Helper()
	var out []byte
	for _, k := range keys {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})...)
	}
	path := filepath.Join(t.TempDir(), "keys.pem")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAsymmetricTokens(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keysFile := writePEM(t, &rsaKey.PublicKey, &ecKey.PublicKey)
	good := jwt.MapClaims{"sub": "ops", "exp": time.Now().Add(time.Hour).Unix(), "iss": "https://idp.test", "aud": "credprops"}
	with := func(key string, value any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range good {
			c[k] = v
		}
		c[key] = value
		return c
	}

	cases := []struct {
		desc    string
		token   string
		message string // empty when accepted
	}{
		{"RS256", signWith(t, jwt.SigningMethodRS256, rsaKey, good), ""},
		{"ES256", signWith(t, jwt.SigningMethodES256, ecKey, good), ""},
		{"HS256 with issuer and audience", signWith(t, jwt.SigningMethodHS256, testSecret, good), ""},
		{"ES256 by an unknown key", signWith(t, jwt.SigningMethodES256, otherEC, good), "The bearer token's signature is invalid."},
		{"wrong issuer", signWith(t, jwt.SigningMethodRS256, rsaKey, with("iss", "https://evil.test")),
			"The bearer token's issuer (iss claim) is not accepted."},
		{"wrong audience", signWith(t, jwt.SigningMethodRS256, rsaKey, with("aud", "other")),
			"The bearer token's audience (aud claim) is not accepted."},
		{"RS384 not configured", signWith(t, jwt.SigningMethodRS384, rsaKey, good),
			"The bearer token's signing algorithm is not accepted. Accepted algorithms: HS256, RS256, ES256."},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newKeyedServer(t, keysFile)
			req := httptest.NewRequest(http.MethodGet, cred1, nil)
			req.Header.Set("Authorization", "Bearer "+c.token)

			res := s.send(req)

			if c.message == "" {
				if res.status != http.StatusOK {
					t.Fatalf("GET status = %d, want 200; body: %s", res.status, res.body)
				}
				return
			}
			assertError(t, res, http.StatusUnauthorized, gen.ErrorsInvalidJWTToken, c.message)
		})
	}
}

func TestJWKSKeys(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x := ecKey.PublicKey.X.FillBytes(make([]byte, 32))
	y := ecKey.PublicKey.Y.FillBytes(make([]byte, 32))
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig","alg":"ES256",` +
		`"x":"` + b64(x) + `","y":"` + b64(y) + `"}]}`
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, []byte(jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newKeyedServer(t, path)
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"sub": "ops", "exp": time.Now().Add(time.Hour).Unix(), "iss": "https://idp.test", "aud": "credprops",
	})
	tok.Header["kid"] = "k1"
	signed, err := tok.SignedString(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, cred1, nil)
	req.Header.Set("Authorization", "Bearer "+signed)

	res := s.send(req)

	if res.status != http.StatusOK {
		t.Fatalf("GET status = %d, want 200; body: %s", res.status, res.body)
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
