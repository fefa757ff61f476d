package jwtprovider

import (
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Method implements auth.MethodAuthenticator: auth.MethodJWT.
func (p *Provider) Method() auth.Method { return auth.MethodJWT }

// Authenticate implements auth.Authenticator. It reads the access token
// from "Authorization: Bearer <token>" (RFC 6750 §2.1, scheme matched
// case-insensitively) or, when the request has no Authorization header at
// all and Config.CookieName is set, from that cookie; never from the URL
// query (RFC 6750 §5.3).
//
// Any bearer value is taken as a JWT: in a chain, an API-key authenticator
// that claims values with its own prefix must run first. It returns
// auth.ErrNoCredentials when there is no token, an *auth.Error when the
// token is bad (see [Provider.Verify]; several Authorization headers, or
// several cookies with the name, are invalid_token), and a wrapped error
// when revocation could not be checked.
//
// The principal's Claims map is shared between requests presenting the same
// token: treat it as read-only.
func (p *Provider) Authenticate(r *http.Request) (*auth.Principal, error) {
	tok, err := auth.BearerToken(r)
	if errors.Is(err, auth.ErrNoCredentials) && p.cookie != "" && len(r.Header.Values("Authorization")) == 0 {
		tok, err = p.cookieToken(r)
	}
	if err != nil {
		return nil, err
	}
	e, err := p.verifyAccess(r.Context(), tok)
	if err != nil {
		return nil, err
	}
	pr := e.principal.Load()
	if pr == nil {
		pr = e.claims.Principal()
		if !e.principal.CompareAndSwap(nil, pr) {
			pr = e.principal.Load()
		}
	}
	cp := *pr // a caller reassigning fields must not affect other requests
	return &cp, nil
}

func (p *Provider) cookieToken(r *http.Request) (string, error) {
	var found []*http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == p.cookie {
			found = append(found, c)
		}
	}
	switch {
	case len(found) == 0:
		return "", auth.ErrNoCredentials
	case len(found) > 1:
		// Two cookies with one name: one may have been planted by a
		// sibling domain (cookie tossing).
		return "", auth.NewError(auth.CodeInvalidToken, "more than one token cookie")
	case !auth.IsB64Token(found[0].Value):
		return "", auth.NewError(auth.CodeInvalidToken, "malformed token cookie")
	}
	return found[0].Value, nil
}
