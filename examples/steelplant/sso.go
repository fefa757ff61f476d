package main

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/oauth2provider"
)

// ssoAccounts maps identities of the plant's IdP to local users: the first
// login creates a user (with an unusable random password) holding the roles
// the IdP groups map to; later logins update the roles. The local username
// is derived from (issuer, subject), "sso." and 16 base32 characters of
// their SHA-256, so the link lives in the user store itself: it survives a
// restart on -db and is the same on every instance sharing -postgres.
type ssoAccounts struct {
	users *basic.Users
}

// ssoUsername returns the local username of an IdP identity.
func ssoUsername(id oauth2provider.Identity) string {
	sum := sha256.Sum256([]byte(id.Issuer + " " + id.Subject))
	return "sso." + strings.ToLower(base32.StdEncoding.EncodeToString(sum[:10]))
}

func (s *ssoAccounts) Resolve(ctx context.Context, id oauth2provider.Identity) (*auth.Principal, error) {
	name := ssoUsername(id)
	for range 2 {
		u, err := s.users.GetByUsername(ctx, name)
		if err == nil {
			if u.Disabled {
				// Disabled here stays disabled, whatever the IdP says.
				return nil, auth.NewError(auth.CodeInvalidCredentials, "the account is disabled")
			}
			if u, err = s.users.Update(ctx, u.ID, basic.UserUpdate{Roles: id.Roles}); err != nil {
				return nil, err
			}
			return u.Principal(auth.MethodOAuth2), nil
		}
		if !errors.Is(err, basic.ErrNotFound) {
			return nil, err
		}
		u, err = s.users.Create(ctx, basic.NewUser{
			Username: name,
			Password: randomToken(32), // never told to anyone: the user signs in through the IdP
			Roles:    id.Roles,
		})
		if err == nil {
			return u.Principal(auth.MethodOAuth2), nil
		}
		// A concurrent first login (here or on another instance) created
		// the user: look it up again.
		if !errors.Is(err, basic.ErrDuplicate) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("sso user %s: created and deleted concurrently", name)
}

// setupSSO adds "log in with your IdP" at /api/v1/auth/oidc/login when
// -oidc-issuer is set. A successful login answers with a token pair, like
// POST /api/v1/auth/login.
func (a *app) setupSSO(ctx context.Context, keyring *auth.Keyring) (login, callback http.Handler, err error) {
	if a.cfg.oidcIssuer == "" {
		return nil, nil, nil
	}
	cfg := oauth2provider.OIDC("sso", a.cfg.oidcIssuer)
	cfg.ClientID, cfg.ClientSecret = a.cfg.oidcClientID, a.cfg.oidcClientSecret
	cfg.RedirectURL = a.cfg.issuer + "/api/v1/auth/oidc/callback"
	cfg.InsecureCookie = strings.HasPrefix(cfg.RedirectURL, "http://")
	cfg.GroupRoleMapping = map[string]string{"Engineering": "engineer", "Operations": "operator", "Supervisors": "supervisor", "Management": "admin"}
	cfg.GroupsFromUserInfo = true
	cfg.Keyring, cfg.Events, cfg.Now = keyring, a.events, a.now
	cfg.Accounts = &ssoAccounts{users: a.users}
	cfg.ReplayStore = a.stores.ssoReplay
	cfg.OnLogin = func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		pair, err := a.tokens.IssuePair(r.Context(), jwtprovider.Subject{
			ID: p.Subject, Username: p.Username, Email: p.Email, Roles: p.Roles, MFA: p.MFA,
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": pair.Access.Value, "refresh_token": pair.Refresh.Value, "token_type": "Bearer",
			"expires_in": int64(pair.Access.Lifetime().Seconds()), "refresh_expires_in": int64(pair.Refresh.Lifetime().Seconds()),
		})
		return nil
	}
	p, err := oauth2provider.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("oidc: %w", err)
	}
	if err := p.Discover(ctx); err != nil {
		a.logger.Warn("the IdP could not be reached yet; logins will retry discovery", "issuer", a.cfg.oidcIssuer, "error", err)
	}
	return p.LoginHandler(), p.CallbackHandler(), nil
}
