package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/oauth2provider"
)

// ssoAccounts maps identities of the plant's IdP to local users: the first
// login creates a user (with an unusable random password) holding the roles
// the IdP groups map to; later logins update the roles. The link from
// (issuer, subject) to the local user lives in memory, like the demo's
// users.
type ssoAccounts struct {
	users *basic.Users

	mu    sync.Mutex        // guards links
	links map[string]string // issuer + " " + subject -> user ID
}

func (s *ssoAccounts) Resolve(ctx context.Context, id oauth2provider.Identity) (*auth.Principal, error) {
	key := id.Issuer + " " + id.Subject
	s.mu.Lock()
	userID, ok := s.links[key]
	s.mu.Unlock()
	if ok {
		roles := id.Roles
		u, err := s.users.Update(ctx, userID, basic.UserUpdate{Roles: roles})
		if err != nil {
			return nil, err
		}
		return u.Principal(auth.MethodOAuth2), nil
	}
	name := strings.Map(func(r rune) rune {
		if r == ':' || r == ' ' || r < 0x20 {
			return '_'
		}
		return r
	}, id.Username)
	if name == "" {
		name = "sso"
	}
	u, err := s.users.Create(ctx, basic.NewUser{
		Username: fmt.Sprintf("%s.%s", name, randomBase62(6)),
		Password: randomToken(32), // never told to anyone: the user signs in through the IdP
		Roles:    id.Roles,
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.links[key] = u.ID
	s.mu.Unlock()
	return u.Principal(auth.MethodOAuth2), nil
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
	cfg.Accounts = &ssoAccounts{users: a.users, links: map[string]string{}}
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
