// Package oauth2provider will log users in through an external OAuth2/OIDC
// identity provider (state, PKCE, nonce, ID-token verification, userinfo and
// group-to-role mapping).
//
// It is not implemented yet: the package holds no code, so nothing here can
// be used by mistake.
package oauth2provider
