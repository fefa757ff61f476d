package authtest

import (
	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/authapi"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/rbac"
	"github.com/gatehouse-auth/gatehouse/session"
)

// Option configures NewStack.
type Option func(*options)

type options struct {
	policy     *rbac.Policy
	clock      *Clock
	mfaRoles   []string
	events     auth.Emitter
	apiLimiter ratelimit.Limiter
	configure  []func(*Config)
}

// WithPolicy replaces the default RBAC policy (DefaultPolicy). Nil keeps
// the default.
func WithPolicy(p *rbac.Policy) Option { return func(o *options) { o.policy = p } }

// WithClock gives the stack a clock the test already holds, for example to
// share it with components the test builds itself. Nil keeps the default: a
// new Clock standing at the real time of NewStack, truncated to the second.
func WithClock(c *Clock) Option { return func(o *options) { o.clock = c } }

// WithMFARequiredFor makes a second factor required for holders of roles
// (mfa.Policy.RequiredForRoles), with no grace period: such a user who has
// not enrolled logs in with tokens that grant no permission until a factor
// is enrolled (see Stack.EnrollTOTP), and one who has is answered
// mfa_required.
func WithMFARequiredFor(roles ...string) Option {
	return func(o *options) { o.mfaRoles = append(o.mfaRoles, roles...) }
}

// WithEvents forwards every event the stack records to em as well (for
// example a Dispatcher with the host's own handlers). em must not block.
func WithEvents(em auth.Emitter) Option { return func(o *options) { o.events = em } }

// WithAuthLimiter replaces the limiter of the auth API's sensitive routes
// (login, refresh, MFA and password routes; authapi.Config.Limiter). The
// default allows a million requests a minute, so that tests are never
// throttled by accident; give a small ratelimit.MemoryLimiter on the
// stack's clock to test 429 answers.
func WithAuthLimiter(l ratelimit.Limiter) Option { return func(o *options) { o.apiLimiter = l } }

// WithConfig registers a hook that may change the components'
// configurations after the stack filled them and before it builds the
// components, for example to shorten Tokens.AccessTTL or add a
// jwtprovider.Validator. Hooks run in the order given.
func WithConfig(f func(*Config)) Option {
	return func(o *options) {
		if f != nil {
			o.configure = append(o.configure, f)
		}
	}
}

// Config holds the configurations NewStack builds its components from,
// as WithConfig hooks see them. Every Now is the stack's clock and every
// Events the stack's recorder.
//
// Fields that wire one component to another refer to the stack and read it
// when they are called: Users.OnCredentialsChanged (revokes the user's
// tokens and sessions), Tokens.ReloadSubject (reloads roles from Users),
// APIKeys.Owners (the owner's current principal from Users). In API, the
// component fields (Users, Tokens, Policy, Authenticators, APIKeys,
// Sessions, MFA) are nil when the hook runs; those still nil afterwards are
// set to the stack's components.
type Config struct {
	// Users configures Stack.Users. Its Hasher is nil when the hooks run;
	// left nil, it is built from Hasher.
	Users basic.Config
	// Hasher configures the password hasher of Users: Argon2id at 64 KiB
	// and one pass, with InsecureLowCost.
	Hasher basic.HasherConfig
	// Tokens configures Stack.Tokens: issuer Stack.URL, audience
	// Stack.URL+"/api/v1", one generated ES256 key.
	Tokens jwtprovider.Config
	// APIKeys configures Stack.APIKeys.
	APIKeys apikey.Config
	// Sessions configures Stack.Sessions: cookie SessionCookie, with
	// InsecureCookie.
	Sessions session.Config
	// MFA configures Stack.MFA, with a generated keyring.
	MFA mfa.Config
	// API configures Stack.API.
	API authapi.Config
}
