package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// isJWT tells an access token (a compact JWS) from the opaque refresh
// tokens and codes, which have no dot.
func isJWT(token string) bool { return strings.Count(token, ".") == 2 }

// handleRevoke is the revocation endpoint (RFC 7009 §2). Every client
// authenticates (public ones with their client_id). It answers 200 for
// tokens it revoked and also for invalid, expired, already revoked or
// foreign tokens (§2.2), so that it tells nobody whether a token is valid.
// Revoking a refresh token revokes its grant and the grant's access tokens
// (§2.1); revoking an access token revokes only that token.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	req, e := readTokenRequest(w, r)
	if e == nil {
		var c Client
		if c, e = s.authenticateClient(r.Context(), r, &req, true); e == nil {
			e = s.revoke(r, &c, &req)
		}
	}
	if e != nil {
		writeJSONError(w, e)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) revoke(r *http.Request, c *Client, req *tokenRequest) *oauthError {
	ctx := r.Context()
	if req.token == "" {
		return newErr(CodeInvalidRequest, "the token parameter is missing")
	}
	if isJWT(req.token) {
		claims, err := s.cfg.Tokens.Verify(ctx, req.token)
		if err != nil {
			if errors.As(err, new(*auth.Error)) {
				return nil // invalid, expired or already revoked
			}
			return unavailable(err)
		}
		if claims.ClientID != c.ID {
			return nil
		}
		if err := s.cfg.Tokens.Revoke(ctx, req.token); err != nil {
			if errors.As(err, new(*auth.Error)) {
				return nil
			}
			return unavailable(err)
		}
		s.emit(ctx, auth.EventTokenRevoked, claims.Subject, claims.Username, c.ID, "revoked",
			map[string]string{"jti": claims.ID, "token_type": "access_token"})
		return nil
	}
	hash := secure.HashHex(req.token)
	g, err := s.grants.FindGrant(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return unavailable(err)
	}
	if !secure.Equal(g.RefreshHash, hash) || g.ClientID != c.ID {
		return nil
	}
	if err := s.revokeGrant(ctx, g.ID, g.Subject, g.Username, g.ClientID, "revoked", nil); err != nil {
		return unavailable(err)
	}
	return nil
}

// introspection is the RFC 7662 §2.2 response.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     *string  `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Username  string   `json:"username,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Nbf       int64    `json:"nbf,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Jti       string   `json:"jti,omitempty"`
}

// handleIntrospect is the introspection endpoint (RFC 7662). Only
// confidential clients may call it. A client sees its own tokens; a client
// registered with Introspect (a resource server) sees every token.
// Anything not valid now answers {"active": false}.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	req, e := readTokenRequest(w, r)
	var out introspection
	if e == nil {
		var c Client
		if c, e = s.authenticateClient(r.Context(), r, &req, false); e == nil {
			out, e = s.introspect(r, &c, &req)
		}
	}
	if e != nil {
		writeJSONError(w, e)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) introspect(r *http.Request, c *Client, req *tokenRequest) (introspection, *oauthError) {
	ctx := r.Context()
	inactive := introspection{}
	if req.token == "" {
		return inactive, newErr(CodeInvalidRequest, "the token parameter is missing")
	}
	if isJWT(req.token) {
		claims, err := s.cfg.Tokens.Verify(ctx, req.token)
		if err != nil {
			if errors.As(err, new(*auth.Error)) {
				return inactive, nil
			}
			return inactive, unavailable(err)
		}
		if !c.Introspect && claims.ClientID != c.ID {
			return inactive, nil
		}
		out := introspection{
			Active: true, ClientID: claims.ClientID, Username: claims.Username, TokenType: "Bearer",
			Sub: claims.Subject, Aud: claims.Audience, Iss: claims.Issuer, Jti: claims.ID,
		}
		if claims.Scopes != nil {
			sc := strings.Join(claims.Scopes, " ")
			out.Scope = &sc
		}
		if claims.ExpiresAt != nil {
			out.Exp = claims.ExpiresAt.Unix()
		}
		if claims.IssuedAt != nil {
			out.Iat = claims.IssuedAt.Unix()
		}
		if claims.NotBefore != nil {
			out.Nbf = claims.NotBefore.Unix()
		}
		return out, nil
	}
	hash := secure.HashHex(req.token)
	g, err := s.grants.FindGrant(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return inactive, unavailable(err)
	}
	if !secure.Equal(g.RefreshHash, hash) || g.Revoked || !s.now().Before(g.ExpiresAt) ||
		!c.Introspect && g.ClientID != c.ID {
		return inactive, nil
	}
	sc := strings.Join(g.Scopes, " ")
	return introspection{
		Active: true, Scope: &sc, ClientID: g.ClientID, Username: g.Username, TokenType: "refresh_token",
		Exp: g.ExpiresAt.Unix(), Iat: g.CreatedAt.Unix(), Sub: g.Subject, Iss: s.issuer,
	}, nil
}
