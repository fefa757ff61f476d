module github.com/gatehouse-auth/gatehouse/oauth2provider/server/interop

go 1.25.0

replace github.com/gatehouse-auth/gatehouse => ../../..

require (
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/gatehouse-auth/gatehouse v0.0.0-00010101000000-000000000000
	golang.org/x/oauth2 v0.36.0
)

require (
	github.com/go-jose/go-jose/v4 v4.1.4 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
)
