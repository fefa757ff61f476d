package oauth2provider

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// DefaultFlowTTL is how long a login flow (the time between the redirect to
// the IdP and the callback) stays valid unless Config.FlowTTL says otherwise.
const DefaultFlowTTL = 10 * time.Minute

// defaultTimeout bounds each request to the IdP when Config.HTTPClient is nil.
const defaultTimeout = 10 * time.Second

// MaxFlowTTL is the longest Config.FlowTTL accepted.
const MaxFlowTTL = 30 * time.Minute

// Config configures a [Provider]. The presets ([Google], [GitHub], [Okta],
// [OIDC]) return a Config with the IdP's endpoints and claims filled in; the
// host adds its client credentials, redirect URL, role mapping and hooks.
type Config struct {
	// Name names the IdP in events (attr "idp"), in the flow cookie's name
	// and in [Identity].IdP: 1 to 64 characters of [A-Za-z0-9_.-].
	// Required.
	Name string

	// ClientID is the client ID registered at the IdP. Required.
	ClientID string
	// ClientSecret is the client secret registered at the IdP; empty for a
	// public client, which then relies on PKCE alone.
	ClientSecret string
	// RedirectURL is the absolute URL at which the host serves
	// [Provider.CallbackHandler], exactly as registered at the IdP.
	// Required. An http URL requires InsecureCookie, since a Secure cookie
	// would never reach it.
	RedirectURL string

	// Issuer is the OpenID Connect issuer URL. When set, the provider speaks
	// OpenID Connect: it sends a nonce, requires an ID token from the token
	// endpoint and verifies it. When AuthURL is empty, the endpoints come
	// from the issuer's discovery document (OpenID Connect Discovery 1.0
	// §4), fetched on the first login or by [Provider.Discover], and the
	// issuer it names must equal Issuer exactly. When Issuer is empty the
	// provider speaks plain OAuth 2.0 and takes the identity from the
	// userinfo response (UserInfoURL or UserInfoFunc, one required).
	Issuer string
	// AuthURL is the authorization endpoint, TokenURL the token endpoint.
	// Set both, or neither with Issuer set (discovery).
	AuthURL, TokenURL string
	// UserInfoURL is the userinfo endpoint. With discovery it comes from
	// the discovery document unless set here.
	UserInfoURL string
	// JWKSURL is where the IdP publishes its ID-token signing keys.
	// Required with Issuer and explicit endpoints; from discovery otherwise.
	JWKSURL string
	// SigningAlgs lists the JWS algorithms accepted on ID tokens. Nil means
	// the algorithms the discovery document advertises that go-oidc
	// supports, or RS256 with explicit endpoints. "none" is never accepted.
	SigningAlgs []string

	// Scopes are requested from the IdP. Nil means "openid email profile"
	// for OpenID Connect, and no scope parameter for plain OAuth 2.0.
	// "openid" is added for OpenID Connect when missing.
	Scopes []string
	// AuthParams are extra parameters of the authorization request, such as
	// Google's "hd" or "prompt". They cannot override the parameters the
	// provider sets (state, nonce, PKCE, client_id, redirect_uri, scope,
	// response_type). They are hints to the IdP, not checks.
	AuthParams map[string]string

	// FetchUserInfo makes the callback call the userinfo endpoint even for
	// OpenID Connect; the response's subject must equal the ID token's, and
	// its claims fill those the ID token lacks. GroupsFromUserInfo implies
	// it. It is ignored for plain OAuth 2.0, which always fetches userinfo.
	FetchUserInfo bool
	// UserInfoFunc, when set, replaces the call to UserInfoURL: it returns
	// the user's claims with the standard names ("sub", "email",
	// "email_verified", "name", "preferred_username", ...). client carries
	// the access token. The GitHub preset sets it.
	UserInfoFunc UserInfoFunc

	// GroupsClaim names the claim holding the user's groups (an array of
	// strings, or one string), read from the ID token, or from the userinfo
	// response when GroupsFromUserInfo is set. Empty means the user has no
	// groups unless GroupsFunc is set.
	GroupsClaim string
	// GroupsFromUserInfo reads GroupsClaim from the userinfo response
	// instead of the ID token.
	GroupsFromUserInfo bool
	// GroupsFunc, when set, supplies the groups instead of GroupsClaim, for
	// IdPs whose groups need an API call (GitHub teams: see [GitHubTeams]).
	// claims are the user's verified claims. An *auth.Error it returns
	// refuses the login with that error; any other error fails it with 503.
	GroupsFunc GroupsFunc

	// GroupRoleMapping maps IdP group names to local roles, for example
	// {"Engineering": "engineer", "Operations": "operator"}. Matching is
	// exact and case-sensitive. A user gets the roles of all their mapped
	// groups.
	GroupRoleMapping map[string]string
	// DefaultRole is the role of a user none of whose groups maps. Empty
	// (the default) refuses such a user (ErrNoRole, 401). GroupRoleMapping
	// and DefaultRole cannot both be empty.
	DefaultRole string

	// LinkAccountsByVerifiedEmail sets [Identity].AllowEmailLinking for
	// users whose email the IdP marks verified, allowing Accounts to attach
	// an IdP login to an existing local account with that email. Off by
	// default: an IdP that lets users claim any address would otherwise
	// hand over local accounts.
	LinkAccountsByVerifiedEmail bool

	// Accounts finds or creates the local account of an identity. Required.
	Accounts Accounts
	// OnLogin starts the host's session or issues its tokens for the
	// principal Accounts returned, and writes the response (typically a
	// redirect). If it returns an error it must not have written anything;
	// the error is handled like any failure (an *auth.Error keeps its code,
	// anything else is 503). Required.
	OnLogin func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error
	// ErrorHandler writes the response to a failed login. err is an
	// *auth.Error (invalid_request 400 for a broken flow, invalid_credentials
	// 401 for a refused login, or whatever Accounts, GroupsFunc or OnLogin
	// returned) or a plain error (IdP or store unreachable: 503). Its text
	// is for logs; it may hold IdP-supplied text. Nil means
	// middleware.WriteError, which writes the JSON error shape without the
	// internal text.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// CookieKey signs the flow cookie with HMAC-SHA256; at least 32 bytes.
	// It must be the same on every instance that may receive a callback.
	// Ignored when Keyring is set. When both are nil a random key is made
	// in New: flows then complete only on the instance that started them.
	CookieKey []byte
	// Keyring, when set, encrypts the flow cookie (so the client cannot
	// read its PKCE verifier and nonce) and seals upstream tokens for
	// TokenStore.
	Keyring *auth.Keyring
	// CookieName names the flow cookie. Empty means
	// "__Host-gatehouse-oauth2-<Name>", or "gatehouse-oauth2-<Name>" with
	// InsecureCookie.
	CookieName string
	// InsecureCookie drops the Secure attribute from the flow cookie, for
	// development over plain HTTP. It MUST NOT be set in production: the
	// cookie would then travel over plain HTTP.
	InsecureCookie bool
	// FlowTTL bounds the time from the redirect to the IdP to the callback.
	// Zero means DefaultFlowTTL; at most MaxFlowTTL.
	FlowTTL time.Duration

	// ReplayStore remembers used flows. Nil means a [MemoryReplayStore],
	// which is right for a single instance only.
	ReplayStore ReplayStore
	// TokenStore, when set, keeps each user's upstream tokens, sealed with
	// Keyring (required with it), for [Provider.UpstreamToken]. Nil means
	// the tokens are dropped after login.
	TokenStore TokenStore

	// HTTPClient makes every request to the IdP (discovery, JWKS, token,
	// userinfo). Nil means a client with a 10-second timeout.
	HTTPClient *http.Client
	// Now is the clock for flow expiry and ID-token expiry. Nil means
	// time.Now.
	Now func() time.Time
	// Events receives login_success and login_failure. Nil discards them.
	Events auth.Emitter
}

// UserInfoFunc returns the claims of the user whose access token is token,
// with standard OpenID Connect claim names. client is an HTTP client that
// sends token as a bearer token.
type UserInfoFunc func(ctx context.Context, client *http.Client, token *oauth2.Token) (map[string]any, error)

// GroupsFunc returns the IdP groups of the user whose access token is token
// and whose verified claims are claims.
type GroupsFunc func(ctx context.Context, token *oauth2.Token, claims map[string]any) ([]string, error)

// Identity is who the IdP says logged in, after verification and group
// mapping. The pair (Issuer, Subject) is the stable, unique key of the
// user at the IdP; Email and the names may change or be reused.
type Identity struct {
	// IdP is Config.Name.
	IdP string
	// Issuer is the OpenID Connect issuer, or for plain OAuth 2.0 the
	// scheme and host of the authorization endpoint
	// ("https://github.com").
	Issuer string
	// Subject is the user's ID at the IdP ("sub").
	Subject string
	// Email is the user's email address, possibly unverified.
	Email string
	// EmailVerified reports whether the IdP says it verified Email.
	EmailVerified bool
	// Name is the display name; Username the "preferred_username" (or the
	// GitHub login).
	Name, Username string
	// Groups are the user's IdP groups.
	Groups []string
	// Roles are the local roles the groups map to (sorted, distinct), or
	// DefaultRole alone.
	Roles []string
	// AllowEmailLinking is true when Config.LinkAccountsByVerifiedEmail is
	// set and the IdP verified Email: only then may Accounts attach this
	// identity to an existing local account found by email.
	AllowEmailLinking bool
	// Claims are the verified ID-token claims, completed with the userinfo
	// claims; read-only.
	Claims map[string]any
}

// Accounts maps IdP identities to local accounts. Implementations must be
// safe for concurrent use.
type Accounts interface {
	// Resolve finds the local account of id by (id.Issuer, id.Subject), or
	// creates it, and returns its principal (whose Roles are usually
	// id.Roles). It may link id to an existing account found by email only
	// when id.AllowEmailLinking is true. An *auth.Error refuses the login
	// with that error; any other error fails it with 503. Never nil, nil.
	Resolve(ctx context.Context, id Identity) (*auth.Principal, error)
}

// AccountsFunc adapts a function to [Accounts].
type AccountsFunc func(ctx context.Context, id Identity) (*auth.Principal, error)

// Resolve calls f(ctx, id).
func (f AccountsFunc) Resolve(ctx context.Context, id Identity) (*auth.Principal, error) {
	return f(ctx, id)
}
