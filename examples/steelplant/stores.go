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
	"github.com/gatehouse-auth/gatehouse/oauth2provider"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
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
// The choice, per kind of record: users, API keys, MFA state and OAuth
// clients and grants on PostgreSQL, else SQLite; sessions, refresh families
// and used SSO login flows on PostgreSQL, else Redis, else SQLite; lockout
// attempts on Redis, else PostgreSQL, else SQLite; request rate limits on
// Redis, else PostgreSQL; JWT revocations on Redis, else PostgreSQL, else
// SQLite (all three keep a local mirror: the verify path makes no network
// call).
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
	oauth       server.Store
	ssoReplay   oauth2provider.ReplayStore
	pgLimiter   *postgres.Limiter // one of the request limiters on PostgreSQL, if any
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
		s.users, s.keys, s.mfa, s.oauth = s.pg.Users(), s.pg.APIKeys(), s.pg.MFA(), s.pg.OAuth()
	case s.lite != nil:
		s.users, s.keys, s.mfa, s.oauth = s.lite.Users(), s.lite.APIKeys(), s.lite.MFA(), s.lite.OAuth()
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
	case s.pg != nil:
		s.ssoReplay = s.pg.SSO()
	case s.redis != nil:
		s.ssoReplay = s.redis.SSOReplay()
	case s.lite != nil:
		s.ssoReplay = s.lite.SSO()
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
	case s.lite != nil:
		if s.revocations, err = s.lite.Revocations(ctx, sqlite.RevocationConfig{}); err != nil {
			return nil, fmt.Errorf("-db: revocations: %w", err)
		}
	}
	return s, nil
}

// limiter returns a request limiter of limit requests per minute, shared by
// every instance: on Redis when -redis is given, else on PostgreSQL when
// -postgres is, else in memory.
func (s *stores) limiter(name string, limit int, now func() time.Time) (ratelimit.Limiter, error) {
	switch {
	case s.redis != nil:
		return s.redis.Limiter(redisstore.LimiterConfig{Name: name, Limit: limit, Period: time.Minute, Now: now})
	case s.pg != nil:
		l, err := s.pg.Limiter(postgres.LimiterConfig{Name: name, Limit: limit, Period: time.Minute, Now: now})
		if err == nil {
			s.pgLimiter = l
		}
		return l, err
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

// sweepInterval is how often the reference server deletes expired records
// from PostgreSQL and SQLite. Until then the stores treat them as missing;
// the sweep only reclaims their space.
const sweepInterval = 10 * time.Minute

// sweep deletes from the PostgreSQL and SQLite stores the records expired
// at now: lockout counters, sessions, refresh families, reset tokens, MFA
// challenges and sent codes, OAuth grants, used SSO login flows and idle
// rate-limit counters. It returns how many rows went, and every error met
// (it goes on after one).
func (s *stores) sweep(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	var errs []error
	add := func(k int64, err error) {
		n += k
		errs = append(errs, err)
	}
	count := func(recs []session.Record, err error) (int64, error) { return int64(len(recs)), err }
	if s.pg != nil {
		add(s.pg.Attempts().DeleteExpired(ctx, now))
		add(count(s.pg.Sessions().DeleteExpired(ctx, now)))
		add(s.pg.RefreshFamilies().DeleteExpired(ctx, now))
		add(s.pg.Users().DeleteExpiredResetTokens(ctx, now))
		add(s.pg.MFA().DeleteExpired(ctx, now))
		add(s.pg.OAuth().DeleteExpired(ctx, now))
		add(s.pg.SSO().DeleteExpired(ctx, now))
		if s.pgLimiter != nil {
			add(s.pgLimiter.DeleteExpired(ctx, now)) // every limiter's rows
		}
	}
	if s.lite != nil {
		add(s.lite.Attempts().DeleteExpired(ctx, now))
		add(count(s.lite.Sessions().DeleteExpired(ctx, now)))
		add(s.lite.RefreshFamilies().DeleteExpired(ctx, now))
		add(s.lite.Users().DeleteExpiredResetTokens(ctx, now))
		add(s.lite.MFA().DeleteExpired(ctx, now))
		add(s.lite.OAuth().DeleteExpired(ctx, now))
		add(s.lite.SSO().DeleteExpired(ctx, now))
	}
	return n, errors.Join(errs...)
}
