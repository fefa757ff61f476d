package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"html"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
)

// demoClients are registered at start: a confidential maintenance app and a
// public reporting tool that uses PKCE on a loopback redirect (RFC 8252).
var demoClients = []server.Client{
	{
		ID: "plant-maintenance-app", Name: "Plant maintenance app", AuthMethod: server.AuthSecretBasic,
		RedirectURIs: []string{"http://localhost:9000/callback"},
		GrantTypes:   []server.GrantType{server.GrantAuthorizationCode, server.GrantRefreshToken, server.GrantClientCredentials},
		Scopes:       []string{"openid", "predictions:read", "alerts:read", "alerts:acknowledge"},
		ServiceRoles: []string{"operator"},
	},
	{
		ID: "plant-reporting-cli", Name: "Shift reporting tool", AuthMethod: server.AuthNone,
		RedirectURIs: []string{"http://127.0.0.1/callback"},
		GrantTypes:   []server.GrantType{server.GrantAuthorizationCode, server.GrantRefreshToken},
		Scopes:       []string{"openid", "reports:read", "predictions:read"},
		RequirePKCE:  true,
	},
}

// setupOAuth builds the authorization server mounted at /api/v1/oauth. The
// login and consent step uses the browser's session: a signed-in user
// (POST /api/v1/auth/login with "session": true) approves the demo clients,
// which are first-party, without a consent page; a visitor without a
// session gets a page saying how to sign in.
func (a *app) setupOAuth(ctx context.Context) (*server.Server, error) {
	idKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	srv, err := server.New(server.Config{
		Issuer: a.cfg.issuer + "/api/v1/oauth", Tokens: a.tokens, Revocations: a.revocations,
		IDTokenKey: idKey, IDTokenKeyID: "steelplant-id-1", Now: a.now, Events: a.events,
		Authorize: func(w http.ResponseWriter, r *http.Request, req server.AuthorizeRequest) (*auth.Principal, bool) {
			p, err := a.sessions.Authenticate(r)
			if err != nil {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprintf(w, "<!doctype html><title>Sign in</title><p>Sign in to the steel plant first "+
					"(POST /api/v1/auth/login with \"session\": true), then reload this page to let %s in.</p>",
					html.EscapeString(req.Client.Name))
				return nil, false
			}
			return p, true
		},
	})
	if err != nil {
		return nil, fmt.Errorf("oauth server: %w", err)
	}
	a.cfg.printTo("OAuth clients (authorization server at %s/api/v1/oauth):\n", a.cfg.issuer)
	for _, c := range demoClients {
		secret, err := srv.RegisterClient(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("oauth client %s: %w", c.ID, err)
		}
		if secret != "" {
			a.cfg.printTo("  %-22s confidential, secret %s\n", c.ID, secret)
		} else {
			a.cfg.printTo("  %-22s public, PKCE S256 required\n", c.ID)
		}
	}
	return srv, nil
}
