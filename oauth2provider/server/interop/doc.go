// Package interop drives the Gatehouse OAuth 2.0 authorization server
// (oauth2provider/server) with clients nobody here wrote:
// golang.org/x/oauth2 for the authorization code flow with PKCE, refresh
// and client credentials, and github.com/coreos/go-oidc/v3 for discovery
// and ID token verification. It is a separate module so that the core
// module's dependency list stays as it is; it holds only tests.
package interop
