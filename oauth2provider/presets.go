package oauth2provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// The presets below return Config templates: the IdP's endpoints, scopes
// and claim names. They are plain values; the host fills in ClientID,
// ClientSecret, RedirectURL, GroupRoleMapping or DefaultRole, Accounts and
// OnLogin, and may change anything else before calling [New].

// OIDC returns a template for any OpenID Connect provider found by
// discovery from issuer, with groups read from the ID token's "groups"
// claim (Keycloak, Authentik, Dex, Zitadel, Entra ID with group claims
// configured, ...). Providers that put groups only in the userinfo response
// need GroupsFromUserInfo as well.
func OIDC(name, issuer string) Config {
	return Config{
		Name:        name,
		Issuer:      issuer,
		Scopes:      []string{"openid", "email", "profile"},
		GroupsClaim: "groups",
	}
}

// Google returns a template for Google (accounts.google.com, discovered).
// Google's tokens carry no groups: set GroupsFunc (for example a call to the
// Cloud Identity groups API) or DefaultRole. For Google Workspace, the "hd"
// claim names the user's domain; AuthParams {"hd": "example.com"} only
// preselects it, so Accounts must check Identity.Claims["hd"] itself.
func Google() Config {
	return Config{
		Name:   "google",
		Issuer: "https://accounts.google.com",
		Scopes: []string{"openid", "email", "profile"},
	}
}

// Okta returns a template for an Okta authorization server whose issuer is
// issuer, for example "https://example.okta.com/oauth2/default", with the
// "groups" scope and claim (the authorization server needs a "groups" claim
// configured for the ID token).
func Okta(issuer string) Config {
	return Config{
		Name:        "okta",
		Issuer:      issuer,
		Scopes:      []string{"openid", "email", "profile", "groups"},
		GroupsClaim: "groups",
	}
}

// GitHub returns a template for GitHub, which speaks plain OAuth 2.0 (no ID
// token): the identity comes from the API's /user (the numeric ID is the
// subject, the login the username) and the verified primary address from
// /user/emails. Teams need an API call: set GroupsFunc to [GitHubTeams] and
// add the "read:org" scope, or use DefaultRole.
func GitHub() Config {
	return gitHubConfig("github", "https://github.com", "https://api.github.com")
}

// GitHubEnterprise returns the [GitHub] template for a GitHub Enterprise
// Server at serverURL (for example "https://github.example.com"), whose API
// is at serverURL/api/v3.
func GitHubEnterprise(serverURL string) Config {
	serverURL = strings.TrimSuffix(serverURL, "/")
	return gitHubConfig("github", serverURL, serverURL+"/api/v3")
}

func gitHubConfig(name, web, api string) Config {
	return Config{
		Name:         name,
		AuthURL:      web + "/login/oauth/authorize",
		TokenURL:     web + "/login/oauth/access_token",
		Scopes:       []string{"read:user", "user:email"},
		UserInfoFunc: gitHubUserInfo(api),
	}
}

// gitHubUserInfo returns a UserInfoFunc over GitHub's REST API at api.
func gitHubUserInfo(api string) UserInfoFunc {
	return func(ctx context.Context, client *http.Client, _ *oauth2.Token) (map[string]any, error) {
		var u struct {
			ID    json.Number `json:"id"`
			Login string      `json:"login"`
			Name  string      `json:"name"`
		}
		if err := getJSON(ctx, client, api+"/user", nil, &u); err != nil {
			return nil, err
		}
		if _, err := u.ID.Int64(); err != nil {
			return nil, fmt.Errorf("%w: GitHub user without numeric id", ErrUserInfo)
		}
		var emails []struct {
			Email    string `json:"email"`
			Primary  bool   `json:"primary"`
			Verified bool   `json:"verified"`
		}
		if err := getJSON(ctx, client, api+"/user/emails", nil, &emails); err != nil {
			return nil, err
		}
		c := map[string]any{"sub": u.ID.String(), "preferred_username": u.Login, "name": u.Name}
		for _, e := range emails {
			if e.Primary && e.Verified && e.Email != "" {
				c["email"], c["email_verified"] = e.Email, true
				break
			}
		}
		return c, nil
	}
}

// GitHubTeams returns a GroupsFunc listing the user's GitHub teams as
// "org/team-slug" (GitHub's /user/teams, which needs the "read:org" scope),
// so that GroupRoleMapping can say {"acme/furnace-engineers": "engineer"}.
// api is "https://api.github.com" or a GitHub Enterprise Server's
// "https://host/api/v3"; client makes the requests (nil: a client with a
// 10-second timeout). At most 1,000 teams are read.
func GitHubTeams(client *http.Client, api string) GroupsFunc {
	api = strings.TrimSuffix(api, "/")
	return func(ctx context.Context, tok *oauth2.Token, _ map[string]any) ([]string, error) {
		c := client
		if c == nil {
			c = &http.Client{Timeout: defaultTimeout}
		}
		var groups []string
		for page := 1; page <= 10; page++ {
			var teams []struct {
				Slug string `json:"slug"`
				Org  struct {
					Login string `json:"login"`
				} `json:"organization"`
			}
			if err := getJSON(ctx, c, api+"/user/teams?per_page=100&page="+strconv.Itoa(page), tok, &teams); err != nil {
				return nil, err
			}
			for _, t := range teams {
				if t.Org.Login != "" && t.Slug != "" {
					groups = append(groups, t.Org.Login+"/"+t.Slug)
				}
			}
			if len(teams) < 100 {
				break
			}
		}
		return groups, nil
	}
}
