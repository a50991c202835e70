// Package auth verifies and signs the JWT bearer tokens that identify
// credprops callers.
package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// leeway is the clock skew allowed when checking exp and nbf.
const leeway = 30 * time.Second

// Config sets which tokens a Verifier accepts.
type Config struct {
	// Secret is the HS256 key. It must be set.
	Secret []byte
	// KeysFile is a PEM or JWKS file of RSA and P-256 public keys for
	// RS256 and ES256 tokens; empty for none.
	KeysFile string
	// Issuer and Audience, when set, must match the iss and aud claims.
	Issuer   string
	Audience string
}

// Error is a token that is not accepted. Its message states what was wrong
// without repeating the token.
type Error struct {
	Message string
	err     error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.err }

// Verifier checks bearer tokens.
type Verifier struct {
	secret   []byte
	rsaKeys  []publicKey
	ecKeys   []publicKey
	methods  []string
	issuer   string
	audience string
	parser   *jwt.Parser
}

// NewVerifier returns a Verifier for cfg, or an error when the secret is
// empty or the keys file cannot be read or holds an unusable key.
func NewVerifier(cfg Config) (*Verifier, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("the HS256 secret is empty")
	}
	v := &Verifier{
		secret:   cfg.Secret,
		methods:  []string{"HS256"},
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
	}

	if cfg.KeysFile != "" {
		if err := v.loadKeys(cfg.KeysFile); err != nil {
			return nil, err
		}
	}
	if len(v.rsaKeys) > 0 {
		v.methods = append(v.methods, "RS256")
	}
	if len(v.ecKeys) > 0 {
		v.methods = append(v.methods, "ES256")
	}

	opts := []jwt.ParserOption{
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Methods lists the accepted signing algorithms.
func (v *Verifier) Methods() []string { return v.methods }

// Verify checks the token's signature and claims and returns its sub
// claim, the caller's user extId. It returns an *Error for any token that
// is not accepted.
func (v *Verifier) Verify(token string) (string, error) {
	claims := &jwt.RegisteredClaims{}
	parsed, err := v.parser.ParseWithClaims(token, claims, v.key)
	if err != nil {
		return "", v.reject(parsed, claims, err)
	}
	if claims.Subject == "" {
		return "", &Error{Message: "The bearer token has no sub claim. The sub claim must name the caller's user extId."}
	}
	return claims.Subject, nil
}

func (v *Verifier) key(t *jwt.Token) (any, error) {
	switch t.Method.Alg() {
	case "HS256":
		return v.secret, nil
	case "RS256":
		return jwt.VerificationKeySet{Keys: keysFor(v.rsaKeys, t)}, nil
	case "ES256":
		return jwt.VerificationKeySet{Keys: keysFor(v.ecKeys, t)}, nil
	}
	return nil, fmt.Errorf("no key for algorithm %s", t.Method.Alg())
}

// publicKey is a verification key with its JWKS key ID, if any.
type publicKey struct {
	id  string
	key jwt.VerificationKey
}

// keysFor returns the keys whose ID is the token's kid header, or every key
// when none has that ID.
func keysFor(keys []publicKey, t *jwt.Token) []jwt.VerificationKey {
	kid, _ := t.Header["kid"].(string)
	var all, named []jwt.VerificationKey
	for _, k := range keys {
		all = append(all, k.key)
		if kid != "" && k.id == kid {
			named = append(named, k.key)
		}
	}
	if len(named) > 0 {
		return named
	}
	return all
}

func (v *Verifier) reject(parsed *jwt.Token, claims *jwt.RegisteredClaims, err error) *Error {
	msg := "The bearer token is invalid."
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		msg = "The bearer token is not a well-formed JWT."
	case parsed != nil && parsed.Method != nil && !slices.Contains(v.methods, parsed.Method.Alg()),
		parsed != nil && parsed.Method == nil:
		msg = fmt.Sprintf("The bearer token's signing algorithm is not accepted. Accepted algorithms: %s.", strings.Join(v.methods, ", "))
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		msg = "The bearer token's signature is invalid."
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && claims.ExpiresAt == nil:
		msg = "The bearer token has no exp claim. Tokens must expire."
	case errors.Is(err, jwt.ErrTokenExpired):
		msg = "The bearer token has expired. Get a new token."
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		msg = "The bearer token is not valid yet. Check the nbf and iat claims and the clocks."
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), v.issuer != "" && claims.Issuer == "":
		msg = "The bearer token's issuer (iss claim) is not accepted."
	case errors.Is(err, jwt.ErrTokenInvalidAudience), v.audience != "" && len(claims.Audience) == 0:
		msg = "The bearer token's audience (aud claim) is not accepted."
	}
	return &Error{Message: msg, err: err}
}

// Sign returns an HS256 token for the user extId sub that expires after
// ttl, with iss and aud claims when issuer and audience are set.
func Sign(secret []byte, sub string, ttl time.Duration, issuer, audience string) (string, error) {
	now := time.Now()
	claims := jwt.RegisteredClaims{
		Subject:   sub,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		Issuer:    issuer,
	}
	if audience != "" {
		claims.Audience = jwt.ClaimStrings{audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// loadKeys reads RSA and P-256 public keys from a JWKS document or from PEM
// blocks (PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE).
func (v *Verifier) loadKeys(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read JWT keys: %w", err)
	}

	var keys []publicKey
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		keys, err = parseJWKS(trimmed)
	} else {
		keys, err = parsePEM(data)
	}
	if err != nil {
		return fmt.Errorf("JWT keys %s: %w", file, err)
	}
	if len(keys) == 0 {
		return fmt.Errorf("JWT keys %s: no public key found", file)
	}

	for i, pk := range keys {
		switch k := pk.key.(type) {
		case *rsa.PublicKey:
			if k.N.BitLen() < 2048 {
				return fmt.Errorf("JWT keys %s: key %d: RSA keys must have at least 2048 bits", file, i+1)
			}
			v.rsaKeys = append(v.rsaKeys, pk)
		case *ecdsa.PublicKey:
			if k.Curve != elliptic.P256() {
				return fmt.Errorf("JWT keys %s: key %d: ES256 needs a P-256 key", file, i+1)
			}
			v.ecKeys = append(v.ecKeys, pk)
		default:
			return fmt.Errorf("JWT keys %s: key %d: unsupported key type %T; use RSA or P-256", file, i+1, pk.key)
		}
	}
	return nil
}

func parseJWKS(data []byte) ([]publicKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("invalid JWKS: %w", err)
	}
	var keys []publicKey
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("JWKS key %d is not a public key; publish only public keys", i+1)
		}
		keys = append(keys, publicKey{id: k.KeyID, key: k.Key})
	}
	return keys, nil
}

func parsePEM(data []byte) ([]publicKey, error) {
	var keys []publicKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return keys, nil
		}

		var key any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			cert, err = x509.ParseCertificate(block.Bytes)
			if err == nil {
				key = cert.PublicKey
			}
		default:
			return nil, fmt.Errorf("PEM block %q is not a public key or certificate", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %q: %w", block.Type, err)
		}
		keys = append(keys, publicKey{key: key})
	}
}
