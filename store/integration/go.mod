module github.com/gatehouse-auth/gatehouse/store/integration

go 1.25.0

require (
	github.com/gatehouse-auth/gatehouse v0.0.0
	github.com/gatehouse-auth/gatehouse/store/postgres v0.0.0
	github.com/gatehouse-auth/gatehouse/store/redis v0.0.0
	github.com/jackc/pgx/v5 v5.12.0
	github.com/redis/go-redis/v9 v9.22.0
)

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/pquerna/otp v1.5.0 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

replace (
	github.com/gatehouse-auth/gatehouse => ../..
	github.com/gatehouse-auth/gatehouse/store/postgres => ../postgres
	github.com/gatehouse-auth/gatehouse/store/redis => ../redis
	github.com/gatehouse-auth/gatehouse/store/sqlite => ../sqlite
)
