package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
	"github.com/gatehouse-auth/gatehouse/session"
	"github.com/gatehouse-auth/gatehouse/store/postgres"
	redisstore "github.com/gatehouse-auth/gatehouse/store/redis"
	"github.com/gatehouse-auth/gatehouse/store/sqlite"
	goredis "github.com/redis/go-redis/v9"
)

// stores holds the engines chosen by -postgres, -redis and -db and the
// stores made from them. A nil store field means the component's in-memory
// default.
//
// The choice, per kind of record: users, API keys and MFA state on
// PostgreSQL, else SQLite (MFA: memory); sessions and refresh families on
// PostgreSQL, else Redis, else SQLite; lockout attempts on Redis, else
// PostgreSQL, else SQLite; request rate limits on Redis; JWT revocations on
// Redis, else PostgreSQL (both are local mirrors: the verify path makes no
// network call), else memory.
type stores struct {
	pg          *postgres.DB
	redisClient *goredis.Client
	redis       *redisstore.DB
	lite        *sqlite.DB

	users       basic.UserStore
	keys        apikey.Store
	sessions    session.Store
	refresh     jwtprovider.RefreshStore
	mfa         mfa.Store
	attempts    ratelimit.AttemptStore
	revocations interface {
		jwtprovider.RevocationStore
		Close() error
	}
}

// openStores connects to the engines of cfg and migrates the databases.
// On error, what was opened is closed.
func openStores(ctx context.Context, cfg config) (_ *stores, err error) {
	s := &stores{}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if cfg.postgresURL != "" {
		if s.pg, err = postgres.Open(ctx, cfg.postgresURL); err != nil {
			return nil, fmt.Errorf("-postgres: %w", err)
		}
		if err := s.pg.Migrate(ctx); err != nil {
			return nil, fmt.Errorf("-postgres: migrate: %w", err)
		}
	}
	if cfg.dbFile != "" {
		if s.lite, err = sqlite.Open(ctx, cfg.dbFile); err != nil {
			return nil, fmt.Errorf("-db: %w", err)
		}
		if err := s.lite.Migrate(ctx); err != nil {
			return nil, fmt.Errorf("-db: migrate: %w", err)
		}
	}
	if cfg.redisURL != "" {
		opt, err := goredis.ParseURL(cfg.redisURL)
		if err != nil {
			return nil, fmt.Errorf("-redis: %w", err)
		}
		s.redisClient = goredis.NewClient(opt)
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = s.redisClient.Ping(pingCtx).Err()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("-redis: %w", err)
		}
		if s.redis, err = redisstore.New(s.redisClient, redisstore.Config{Prefix: cfg.redisPrefix}); err != nil {
			return nil, fmt.Errorf("-redis: %w", err)
		}
	}

	switch {
	case s.pg != nil:
		s.users, s.keys, s.mfa = s.pg.Users(), s.pg.APIKeys(), s.pg.MFA()
	case s.lite != nil:
		s.users, s.keys = s.lite.Users(), s.lite.APIKeys()
	}
	switch {
	case s.pg != nil:
		s.sessions, s.refresh = s.pg.Sessions(), s.pg.RefreshFamilies()
	case s.redis != nil:
		s.sessions, s.refresh = s.redis.Sessions(), s.redis.RefreshFamilies()
	case s.lite != nil:
		s.sessions, s.refresh = s.lite.Sessions(), s.lite.RefreshFamilies()
	}
	switch {
	case s.redis != nil:
		s.attempts = s.redis.Attempts()
	case s.pg != nil:
		s.attempts = s.pg.Attempts()
	case s.lite != nil:
		s.attempts = s.lite.Attempts()
	}
	switch {
	case s.redis != nil:
		if s.revocations, err = s.redis.Revocations(ctx, redisstore.RevocationConfig{}); err != nil {
			return nil, fmt.Errorf("-redis: revocations: %w", err)
		}
	case s.pg != nil:
		if s.revocations, err = s.pg.Revocations(ctx, postgres.RevocationConfig{}); err != nil {
			return nil, fmt.Errorf("-postgres: revocations: %w", err)
		}
	}
	return s, nil
}

// limiter returns a request limiter of limit requests per minute: on Redis
// (shared by every instance) when -redis is given, else in memory.
func (s *stores) limiter(name string, limit int, now func() time.Time) (ratelimit.Limiter, error) {
	if s.redis != nil {
		return s.redis.Limiter(redisstore.LimiterConfig{Name: name, Limit: limit, Period: time.Minute, Now: now})
	}
	return ratelimit.NewMemoryLimiter(ratelimit.MemoryConfig{Limit: limit, Period: time.Minute, Now: now})
}

// close releases the engines' connections. It is safe on a partly opened
// stores.
func (s *stores) close() error {
	var errs []error
	if s.revocations != nil {
		errs = append(errs, s.revocations.Close())
	}
	if s.redisClient != nil {
		errs = append(errs, s.redisClient.Close())
	}
	if s.pg != nil {
		s.pg.Close()
	}
	if s.lite != nil {
		errs = append(errs, s.lite.Close())
	}
	return errors.Join(errs...)
}
