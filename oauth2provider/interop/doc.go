// Package interop tests package oauth2provider against a real, independent
// OpenID Connect provider: the OpenID-certified oidc-provider npm package,
// pinned in idp/package.json and idp/package-lock.json and run with Node on
// a loopback port by TestInteropOIDCProvider.
//
// The test installs the provider with "npm ci" when idp/node_modules is
// missing. Without node and npm on PATH it is skipped, unless the
// environment variable CI is set, in which case it fails. It is skipped
// under -short.
//
// The provider serves plain HTTP on 127.0.0.1 (oauth2provider allows http
// endpoints on loopback hosts only) and the client runs with InsecureCookie,
// since the callback is plain HTTP too. Nothing here is a production
// configuration.
package interop
