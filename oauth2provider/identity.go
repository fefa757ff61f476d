package oauth2provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// maxUserInfo bounds a userinfo response body.
const maxUserInfo = 1 << 20

const verifyFailed = "the identity provider's answer could not be verified"

// identify turns the token response into an Identity. On failure it returns
// the event reason and the error for the error handler; the Identity then
// carries the subject if it was already known.
func (p *Provider) identify(ctx context.Context, ep *endpoints, tok *oauth2.Token, f flow) (Identity, string, error) {
	id := Identity{IdP: p.cfg.Name, Issuer: p.plainIssuer}
	var idClaims, uiClaims map[string]any
	if p.oidc {
		id.Issuer = ep.issuer
		raw, _ := tok.Extra("id_token").(string)
		if raw == "" {
			return id, "id_token_missing", auth.WrapError(auth.CodeInvalidCredentials, verifyFailed,
				fmt.Errorf("%w: the token response has no id_token", ErrIDToken))
		}
		idt, err := ep.verifier.Verify(p.clientContext(ctx), raw)
		if err != nil {
			reason := "id_token_invalid"
			var te *oidc.TokenExpiredError
			if errors.As(err, &te) {
				reason = "id_token_expired"
			}
			return id, reason, auth.WrapError(auth.CodeInvalidCredentials, verifyFailed, fmt.Errorf("%w: %w", ErrIDToken, err))
		}
		id.Subject = idt.Subject
		if idt.Nonce == "" || !secure.Equal(idt.Nonce, f.Nonce) {
			return id, "nonce_mismatch", auth.WrapError(auth.CodeInvalidCredentials, verifyFailed, ErrNonce)
		}
		if idt.AccessTokenHash != "" {
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				return id, "id_token_invalid", auth.WrapError(auth.CodeInvalidCredentials, verifyFailed, fmt.Errorf("%w: %w", ErrIDToken, err))
			}
		}
		if err := idt.Claims(&idClaims); err != nil {
			return id, "id_token_invalid", auth.WrapError(auth.CodeInvalidCredentials, verifyFailed, fmt.Errorf("%w: %w", ErrIDToken, err))
		}
		// OpenID Connect Core §3.1.3.7 (4, 5): with several audiences the
		// token must name this client as its authorized party.
		azp, hasAZP := idClaims["azp"]
		if (hasAZP && azp != p.cfg.ClientID) || (!hasAZP && len(idt.Audience) > 1) {
			return id, "id_token_invalid", auth.WrapError(auth.CodeInvalidCredentials, verifyFailed,
				fmt.Errorf("%w: authorized party is not this client", ErrIDToken))
		}
	}
	if !p.oidc || p.cfg.FetchUserInfo || p.cfg.GroupsFromUserInfo {
		c, err := p.userInfo(ctx, ep, tok)
		if err != nil {
			if errors.Is(err, ErrUserInfo) {
				return id, "userinfo_invalid", auth.WrapError(auth.CodeInvalidCredentials, verifyFailed, err)
			}
			var ae *auth.Error
			if errors.As(err, &ae) && ae.Code != auth.CodeUnavailable {
				return id, "userinfo_refused", err
			}
			return id, "unavailable", fmt.Errorf("oauth2provider: userinfo: %w", err)
		}
		uiClaims = c
		sub := stringClaim(c["sub"])
		if p.oidc && sub != id.Subject {
			// OpenID Connect Core §5.3.2: the sub of the userinfo response
			// MUST be verified to exactly match the ID token's.
			return id, "userinfo_invalid", auth.WrapError(auth.CodeInvalidCredentials, verifyFailed,
				fmt.Errorf("%w: subject differs from the ID token's", ErrUserInfo))
		}
		id.Subject = sub
	}
	if id.Subject == "" {
		return id, "identity_invalid", auth.WrapError(auth.CodeInvalidCredentials, verifyFailed, ErrIdentity)
	}

	claims := make(map[string]any, len(idClaims)+len(uiClaims))
	for k, v := range uiClaims {
		claims[k] = v
	}
	for k, v := range idClaims { // the signed ID token wins
		claims[k] = v
	}
	id.Claims = claims
	id.Email = stringClaim(claims["email"])
	id.EmailVerified = id.Email != "" && boolClaim(claims["email_verified"])
	id.Name = stringClaim(claims["name"])
	id.Username = stringClaim(claims["preferred_username"])
	id.AllowEmailLinking = p.cfg.LinkAccountsByVerifiedEmail && id.EmailVerified

	switch {
	case p.cfg.GroupsFunc != nil:
		g, err := p.cfg.GroupsFunc(ctx, tok, claims)
		if err != nil {
			var ae *auth.Error
			if errors.As(err, &ae) && ae.Code != auth.CodeUnavailable {
				return id, "groups_refused", err
			}
			return id, "unavailable", fmt.Errorf("oauth2provider: groups: %w", err)
		}
		id.Groups = dedupe(g)
	case p.cfg.GroupsClaim != "":
		src := idClaims
		if !p.oidc || p.cfg.GroupsFromUserInfo {
			src = uiClaims
		}
		id.Groups = dedupe(stringsClaim(src[p.cfg.GroupsClaim]))
	}
	id.Roles = p.mapRoles(id.Groups)
	if len(id.Roles) == 0 {
		return id, "no_mapped_group", auth.WrapError(auth.CodeInvalidCredentials, "this account is not allowed to log in here", ErrNoRole)
	}
	return id, "", nil
}

// mapRoles returns the sorted distinct roles of groups, or DefaultRole
// alone when none maps, or nil.
func (p *Provider) mapRoles(groups []string) []string {
	var roles []string
	for _, g := range groups {
		if r, ok := p.cfg.GroupRoleMapping[g]; ok {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		if p.cfg.DefaultRole == "" {
			return nil
		}
		return []string{p.cfg.DefaultRole}
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// userInfo returns the claims of the userinfo response (OpenID Connect Core
// §5.3), or of Config.UserInfoFunc. A refusal or an unusable answer wraps
// ErrUserInfo; a network failure or 5xx does not.
func (p *Provider) userInfo(ctx context.Context, ep *endpoints, tok *oauth2.Token) (map[string]any, error) {
	if p.cfg.UserInfoFunc != nil {
		client := oauth2.NewClient(p.clientContext(ctx), oauth2.StaticTokenSource(tok))
		c, err := p.cfg.UserInfoFunc(ctx, client, tok)
		if err == nil && c == nil {
			err = fmt.Errorf("%w: no claims", ErrUserInfo)
		}
		return c, err
	}
	if ep.userInfoURL == "" {
		return nil, errors.New("oauth2provider: the IdP publishes no userinfo endpoint; set UserInfoURL")
	}
	var c map[string]any
	if err := getJSON(ctx, p.client, ep.userInfoURL, tok, &c); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrUserInfo)
	}
	return c, nil
}

// getJSON GETs url with tok as bearer token (when non-nil) and decodes the
// JSON response into v, numbers as json.Number. Statuses 400-499, a non-JSON
// answer (a signed application/jwt userinfo response included) and bad
// JSON wrap ErrUserInfo.
func getJSON(ctx context.Context, client *http.Client, url string, tok *oauth2.Token, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	req.Header.Set("Accept", "application/json")
	if tok != nil {
		tok.SetAuthHeader(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("oauth2provider: GET %s: status %d", url, resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: status %d", ErrUserInfo, url, resp.StatusCode)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return fmt.Errorf("%w: GET %s: content type %q is not JSON", ErrUserInfo, url, mt)
	}
	d := json.NewDecoder(io.LimitReader(resp.Body, maxUserInfo))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: GET %s: %w", ErrUserInfo, url, err)
	}
	return nil
}

// stringClaim returns a string claim, or a JSON integer as its decimal
// text (GitHub's numeric user IDs); anything else is "".
func stringClaim(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return x.String()
		}
	}
	return ""
}

// boolClaim accepts true and the string "true" (some IdPs send
// email_verified as a string).
func boolClaim(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

// stringsClaim returns the strings of an array claim, or a one-string claim
// as a one-element list; other members and types are ignored.
func stringsClaim(v any) []string {
	switch x := v.(type) {
	case string:
		if x != "" {
			return []string{x}
		}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return slices.Clone(x)
	}
	return nil
}

// dedupe drops empty and repeated strings, keeping the first occurrence.
func dedupe(s []string) []string {
	var out []string
	seen := make(map[string]struct{}, len(s))
	for _, v := range s {
		if _, dup := seen[v]; v != "" && !dup {
			seen[v] = struct{}{}
			out = append(out, v)
		}
	}
	return out
}
