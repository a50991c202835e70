package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var secret = []byte("unit-test-secret-of-32-bytes-or-more")

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func publicPEM(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestSignVerify(t *testing.T) {
	v, err := NewVerifier(Config{Secret: secret, Issuer: "idp", Audience: "credprops"})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(secret, "ops", time.Minute, "idp", "credprops")
	if err != nil {
		t.Fatal(err)
	}

	sub, err := v.Verify(signed)

	if err != nil {
		t.Fatalf("Verify error = %v, want none", err)
	}
	if sub != "ops" {
		t.Errorf("sub = %q, want ops", sub)
	}
}

func TestVerify_Rejects(t *testing.T) {
	v, err := NewVerifier(Config{Secret: secret, Issuer: "idp"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		desc    string
		token   func() (string, error)
		message string
	}{
		{"wrong issuer", func() (string, error) { return Sign(secret, "ops", time.Minute, "other", "") },
			"The bearer token's issuer (iss claim) is not accepted."},
		{"no issuer", func() (string, error) { return Sign(secret, "ops", time.Minute, "", "") },
			"The bearer token's issuer (iss claim) is not accepted."},
		{"expired beyond leeway", func() (string, error) { return Sign(secret, "ops", -2*leeway, "idp", "") },
			"The bearer token has expired. Get a new token."},
		{"other secret", func() (string, error) {
			return Sign([]byte("another-unit-test-secret-of-32-bytes"), "ops", time.Minute, "idp", "")
		}, "The bearer token's signature is invalid."},
		{"garbage", func() (string, error) { return "a.b.c", nil }, "The bearer token is not a well-formed JWT."},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			token, err := c.token()
			if err != nil {
				t.Fatal(err)
			}

			_, err = v.Verify(token)

			var authErr *Error
			if !errors.As(err, &authErr) {
				t.Fatalf("Verify error = %v, want *Error", err)
			}
			if authErr.Message != c.message {
				t.Errorf("message = %q, want %q", authErr.Message, c.message)
			}
			if strings.Contains(authErr.Message, token) {
				t.Errorf("message repeats the token")
			}
		})
	}
}

func TestVerify_WithinLeeway(t *testing.T) {
	v, err := NewVerifier(Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	token, err := Sign(secret, "ops", -leeway/2, "", "")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := v.Verify(token); err != nil {
		t.Errorf("Verify error = %v, want none within the %s leeway", err, leeway)
	}
}

func TestNewVerifier_Keys(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privateDER, err := x509.MarshalPKCS8PrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		desc        string
		file        string
		wantErr     string
		wantMethods string
	}{
		{"RSA and P-256", publicPEM(t, &rsaKey.PublicKey) + publicPEM(t, &p256.PublicKey), "", "HS256,RS256,ES256"},
		{"PKCS1 RSA", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)})), "", "HS256,RS256"},
		{"small RSA", publicPEM(t, &smallRSA.PublicKey), "RSA keys must have at least 2048 bits", ""},
		{"P-384", publicPEM(t, &p384.PublicKey), "ES256 needs a P-256 key", ""},
		{"private key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privateDER})), `PEM block "PRIVATE KEY" is not a public key or certificate`, ""},
		{"empty", "", "no public key found", ""},
		{"bad JWKS", `{"keys":[{"kty":"EC"}]}`, "invalid JWKS", ""},
		{"private JWKS key", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, "is not a public key", ""},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			v, err := NewVerifier(Config{Secret: secret, KeysFile: writeFile(t, "keys", c.file)})

			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("NewVerifier error = %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewVerifier error = %v, want none", err)
			}
			if got := strings.Join(v.Methods(), ","); got != c.wantMethods {
				t.Errorf("methods = %s, want %s", got, c.wantMethods)
			}
		})
	}
}

func TestNewVerifier_EmptySecret(t *testing.T) {
	if _, err := NewVerifier(Config{}); err == nil {
		t.Fatal("NewVerifier with no secret succeeded, want an error")
	}
}
