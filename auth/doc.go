// Package auth holds the vocabulary shared by every Gatehouse package: the
// [Principal] an authentication produces, the [Authenticator] contract of the
// middleware chain, the error codes of the JSON API ([Error], [Code]), context
// accessors, security events ([Event], [Dispatcher], the masking audit
// handler) and the [Keyring] that encrypts recoverable secrets at rest.
//
// # Authenticator contract
//
// An Authenticator returns [ErrNoCredentials] when the request carries no
// credential of its kind, so that a chain tries the next one. When a
// credential of its kind is present but bad, it returns an *[Error] (for
// example [CodeInvalidToken]) and the chain stops: a bad token never falls
// through to a weaker method. Any other error (a store or network failure) is
// answered with 503 unavailable, never with 401, so that an outage is not
// reported to a user as a wrong password.
//
// # Events
//
// A [Dispatcher] delivers events to handlers on goroutines of its own, through
// one bounded queue per handler. A handler that is slow, blocks, returns an
// error or panics never delays or fails the request that emitted the event;
// events that do not fit in its queue are dropped and counted
// ([Dispatcher.Dropped]).
//
// # What this package does not check
//
// It defines the shapes; it verifies no credential. The [AuditHandler] masks
// attributes by name (password, token, secret, key, code, authorization,
// cookie, ...): a secret placed under an innocent name, or in [Event.Reason],
// is written as given, so producers must keep secrets out of those.
package auth
