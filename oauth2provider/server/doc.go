// Package server will be the OAuth2 authorization server for third-party
// integrations (authorization code with PKCE, client credentials, refresh
// rotation, revocation, introspection, metadata and JWKS).
//
// It is not implemented yet: the package holds no code, so nothing here can
// be used by mistake.
package server
