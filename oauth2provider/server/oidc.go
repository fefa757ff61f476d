package server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"net/http"
	"slices"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// idTokenKey signs ID tokens.
type idTokenKey struct {
	kid, alg string
	method   jwt.SigningMethod
	key      crypto.Signer
	newHash  func() hash.Hash
	jwk      jwtprovider.JWK
}

// newIDTokenKey checks the ID token key: its type picks the algorithm, and
// jwtprovider.NewKey checks its strength and the key ID.
func newIDTokenKey(kid string, k crypto.Signer) (*idTokenKey, error) {
	if k == nil || kid == "" {
		return nil, errors.New("IDTokenKey and IDTokenKeyID go together")
	}
	ik := &idTokenKey{kid: kid, key: k, newHash: sha256.New}
	b64 := base64.RawURLEncoding.EncodeToString
	switch key := k.(type) {
	case *rsa.PrivateKey:
		ik.alg, ik.method = jwtprovider.RS256, jwt.SigningMethodRS256
		ik.jwk = jwtprovider.JWK{KeyType: "RSA", N: b64(key.N.Bytes()), E: b64(big.NewInt(int64(key.E)).Bytes())}
	case *ecdsa.PrivateKey:
		if key.Curve != elliptic.P256() {
			return nil, errors.New("ECDSA keys must be on P-256")
		}
		pub, err := key.PublicKey.ECDH()
		if err != nil {
			return nil, err
		}
		b := pub.Bytes() // 0x04 || X || Y
		ik.alg, ik.method = jwtprovider.ES256, jwt.SigningMethodES256
		ik.jwk = jwtprovider.JWK{KeyType: "EC", Curve: "P-256", X: b64(b[1:33]), Y: b64(b[33:65])}
	case ed25519.PrivateKey:
		ik.alg, ik.method, ik.newHash = jwtprovider.EdDSA, jwt.SigningMethodEdDSA, sha512.New
		ik.jwk = jwtprovider.JWK{KeyType: "OKP", Curve: "Ed25519", X: b64(key.Public().(ed25519.PublicKey))}
	default:
		return nil, fmt.Errorf("unsupported key type %T (want *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey)", k)
	}
	if _, err := jwtprovider.NewKey(kid, ik.alg, k); err != nil {
		return nil, err
	}
	ik.jwk.Use, ik.jwk.Algorithm, ik.jwk.KeyID = "sig", ik.alg, kid
	return ik, nil
}

// tokenHash is the at_hash of an access token (OpenID Connect Core
// §3.1.3.6): the left half of its hash, base64url. The hash is the one of
// the signing algorithm (SHA-512 for EdDSA, as verifiers such as go-oidc
// compute it).
func (k *idTokenKey) tokenHash(token string) string {
	h := k.newHash()
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// idToken signs the ID token of grant g for the access token at (OpenID
// Connect Core §2, §3.1.3.6). It lives as long as the access token.
func (s *Server) idToken(g *Grant, scopes []string, at jwtprovider.Token, nonce string) (string, error) {
	k := s.idKey
	c := jwt.MapClaims{
		"iss":       s.issuer,
		"sub":       g.Subject,
		"aud":       g.ClientID,
		"azp":       g.ClientID,
		"iat":       at.IssuedAt.Unix(),
		"exp":       at.ExpiresAt.Unix(),
		"auth_time": g.AuthTime.Unix(),
		"at_hash":   k.tokenHash(at.Value),
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	amr := slices.Clone(g.MFA.Methods)
	if g.MFA.Verified && !slices.Contains(amr, "mfa") {
		amr = append(amr, "mfa")
	}
	if len(amr) > 0 {
		c["amr"] = amr
	}
	if slices.Contains(scopes, ScopeProfile) && g.Username != "" {
		c["preferred_username"] = g.Username
	}
	if slices.Contains(scopes, ScopeEmail) && g.Email != "" {
		c["email"] = g.Email
	}
	t := jwt.NewWithClaims(k.method, c)
	t.Header["kid"] = k.kid
	t.Header["typ"] = "JWT"
	return t.SignedString(k.key)
}

// userinfo is the UserInfo response (OpenID Connect Core §5.3.2).
type userinfo struct {
	Sub               string `json:"sub"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Email             string `json:"email,omitempty"`
}

// handleUserinfo is the UserInfo endpoint: it needs an access token of this
// server with the "openid" scope (RFC 6750 bearer, header only) and returns
// the claims its scopes select.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSONError(w, &oauthError{code: CodeInvalidRequest, description: "method not allowed", status: http.StatusMethodNotAllowed})
		return
	}
	bearer := func(status int, code, description string) {
		v := `Bearer realm="oauth"`
		if code != "" {
			v += `, error="` + code + `", error_description="` + description + `"`
		}
		w.Header().Set("WWW-Authenticate", v)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(oauthErrorBody{Error: code, ErrorDescription: description})
	}
	token, err := auth.BearerToken(r)
	if errors.Is(err, auth.ErrNoCredentials) {
		bearer(http.StatusUnauthorized, CodeInvalidRequest, "an access token is required")
		return
	}
	if err != nil {
		bearer(http.StatusUnauthorized, CodeInvalidToken, "the access token is invalid")
		return
	}
	claims, err := s.cfg.Tokens.Verify(r.Context(), token)
	if err != nil {
		if errors.As(err, new(*auth.Error)) {
			bearer(http.StatusUnauthorized, CodeInvalidToken, "the access token is invalid, expired or revoked")
			return
		}
		writeJSONError(w, unavailable(err))
		return
	}
	if claims.ClientID == "" || !slices.Contains(claims.Scopes, ScopeOpenID) {
		bearer(http.StatusForbidden, CodeInsufficientScope, "the access token lacks the openid scope")
		return
	}
	out := userinfo{Sub: claims.Subject}
	if slices.Contains(claims.Scopes, ScopeProfile) {
		out.PreferredUsername = claims.Username
	}
	if slices.Contains(claims.Scopes, ScopeEmail) {
		out.Email = claims.Email
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
