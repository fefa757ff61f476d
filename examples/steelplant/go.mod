module github.com/gatehouse-auth/gatehouse/examples/steelplant

go 1.25.0

require (
	github.com/gatehouse-auth/gatehouse v0.0.0
	github.com/gatehouse-auth/gatehouse/store/postgres v0.0.0
	github.com/gatehouse-auth/gatehouse/store/redis v0.0.0
	github.com/gatehouse-auth/gatehouse/store/sqlite v0.0.0
	github.com/pquerna/otp v1.5.0
	github.com/redis/go-redis/v9 v9.22.0
)

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/go-jose/go-jose/v4 v4.1.4 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.12.0 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	modernc.org/libc v1.75.7 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
	modernc.org/sqlite v1.59.0 // indirect
)

replace (
	github.com/gatehouse-auth/gatehouse => ../..
	github.com/gatehouse-auth/gatehouse/store/postgres => ../../store/postgres
	github.com/gatehouse-auth/gatehouse/store/redis => ../../store/redis
	github.com/gatehouse-auth/gatehouse/store/sqlite => ../../store/sqlite
)
