package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"html"
	"log/slog"
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
	idKey, err := idTokenKey(a.logger)
	if err != nil {
		return nil, err
	}
	clients := server.ClientStore(a.stores.oauth) // nil: in memory
	srv, err := server.New(server.Config{
		Issuer: a.cfg.issuer + "/api/v1/oauth", Tokens: a.tokens, Revocations: a.revocations, Clients: clients,
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
		// On a durable store a client registered earlier keeps its secret,
		// which was printed then (only its hash is stored).
		kept := false
		if clients != nil {
			old, err := clients.GetClient(ctx, c.ID)
			switch {
			case err == nil && !old.Public() && !c.Public():
				c.SecretHash, kept = old.SecretHash, true
			case err != nil && !errors.Is(err, server.ErrNotFound):
				return nil, fmt.Errorf("oauth client %s: %w", c.ID, err)
			}
		}
		secret, err := srv.RegisterClient(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("oauth client %s: %w", c.ID, err)
		}
		switch {
		case kept:
			a.cfg.printTo("  %-22s confidential, secret unchanged (printed when it was first registered)\n", c.ID)
		case secret != "":
			a.cfg.printTo("  %-22s confidential, secret %s\n", c.ID, secret)
		default:
			a.cfg.printTo("  %-22s public, PKCE S256 required\n", c.ID)
		}
	}
	return srv, nil
}

// idTokenKey loads GATEHOUSE_ID_TOKEN_KEY (a PEM private key: P-256 ECDSA,
// RSA or Ed25519, or the path of one) or generates a P-256 key. Instances
// that share a store need the same key, or the ID tokens of one fail
// verification against the JWKS of another.
func idTokenKey(logger *slog.Logger) (crypto.Signer, error) {
	data, err := pemFromEnv("GATEHOUSE_ID_TOKEN_KEY")
	if err != nil {
		return nil, err
	}
	if data == nil {
		logger.Warn("GATEHOUSE_ID_TOKEN_KEY is not set: ID tokens are signed with a generated key")
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("GATEHOUSE_ID_TOKEN_KEY: no PEM block")
	}
	var key any
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("GATEHOUSE_ID_TOKEN_KEY: PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("GATEHOUSE_ID_TOKEN_KEY: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("GATEHOUSE_ID_TOKEN_KEY: %T is not a signing key", key)
	}
	return signer, nil
}
