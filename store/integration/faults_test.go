package integration_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// privateRedis is a redis-server of the test's own, on a loopback port, that
// the test stops and starts. It appends every write to a file in a
// temporary directory (fsync on every write), as a deployment that keeps
// revocations across restarts must.
type privateRedis struct {
	port int
	dir  string
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			msg := bin + " is not on the PATH (Debian: apt-get install redis-server redis-tools)"
			if os.Getenv("CI") != "" {
				t.Fatal(msg + " (CI is set: a missing server fails the tests)")
			}
			t.Skip(msg)
		}
	}
	p := &privateRedis{port: freePort(t), dir: t.TempDir()}
	p.start(t)
	t.Cleanup(func() {
		_ = exec.Command("redis-cli", "-p", strconv.Itoa(p.port), "shutdown", "nosave").Run()
		// The server removes its pid file last: wait for it, so that the
		// removal of the directory does not race its exit.
		pollUntil(5*time.Second, 20*time.Millisecond, func() bool {
			return !fileExists(filepath.Join(p.dir, "redis.pid"))
		})
	})
	return p
}

func (p *privateRedis) addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

// ping reports whether the server answers.
func (p *privateRedis) ping() bool {
	out, err := exec.Command("redis-cli", "-p", strconv.Itoa(p.port), "ping").Output()
	return err == nil && string(out) == "PONG\n"
}

func (p *privateRedis) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(p.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", p.dir,
		"--pidfile", filepath.Join(p.dir, "redis.pid"), "--logfile", filepath.Join(p.dir, "redis.log"),
		"--daemonize", "yes")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("redis-server: %v: %s", err, out)
	}
	if _, ok := pollUntil(5*time.Second, 20*time.Millisecond, p.ping); !ok {
		log, _ := os.ReadFile(filepath.Join(p.dir, "redis.log"))
		t.Fatalf("private redis on %s does not answer:\n%s", p.addr(), log)
	}
}

func (p *privateRedis) stop(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("redis-cli", "-p", strconv.Itoa(p.port), "shutdown", "nosave").CombinedOutput(); err != nil {
		// redis-cli reports the dropped connection of a successful
		// shutdown as an error on some versions: the ping below decides.
		t.Logf("redis-cli shutdown: %v: %s", err, out)
	}
	if _, ok := pollUntil(5*time.Second, 20*time.Millisecond, func() bool { return !p.ping() }); !ok {
		t.Fatalf("private redis on %s still answers after shutdown", p.addr())
	}
}

// fastFailClient is a client whose calls fail quickly when the server is
// gone.
func fastFailClient(t *testing.T, addr string) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{
		Addr: addr, DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond, MaxRetries: 1,
		DialerRetries: 1,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// unavailable reports whether r is the 503 unavailable of a store failure.
func unavailable(r response) bool {
	return r.status == http.StatusServiceUnavailable && r.code() == "unavailable"
}

// assertUnavailable fails unless r is the 503 unavailable of a store
// failure.
func assertUnavailable(t *testing.T, what string, r response) {
	t.Helper()
	if !unavailable(r) {
		t.Errorf("%s while Redis is down: %d %v, want 503 unavailable", what, r.status, r.body)
	}
}

// TestRedisOutageAndRecovery stops the Redis of an instance while requests
// flow, then starts it again.
func TestRedisOutageAndRecovery(t *testing.T) {
	sh := newShared(t)
	pr := startPrivateRedis(t)
	client := fastFailClient(t, pr.addr())
	c := sh.newStack(t, stackConfig{redis: client})
	// The same instance, but whose request limiter is on a healthy Redis:
	// its logins reach the lockout store that is down.
	lockOnly := sh.newStack(t, stackConfig{redis: client, limiterRedis: sh.redis})
	c.createUser(t, "alice")
	c.createUser(t, "bob")

	revoked, _ := c.mustLogin(t, "alice")
	if r := c.do(t, request{method: "POST", path: "/revoke-all", bearer: revoked, body: map[string]any{}}); r.status != http.StatusOK {
		t.Fatalf("revoke-all: %d %v", r.status, r.body)
	}
	valid, refresh := c.mustLogin(t, "bob")
	for name, s := range map[string]*stack{"C": c, "lockOnly": lockOnly} {
		if r := s.me(t, revoked); r.status != http.StatusUnauthorized || r.code() != "token_revoked" {
			t.Fatalf("revoked token on %s before the outage: %d %v", name, r.status, r.body)
		}
		if r := s.me(t, valid); r.status != http.StatusOK {
			t.Fatalf("valid token on %s before the outage: %d %v", name, r.status, r.body)
		}
	}

	// Background traffic through the outage and the recovery: whatever
	// Redis does, the revoked token never gets a 200 and neither the valid
	// token nor the right password ever gets a 401.
	done := make(chan struct{})
	var flow sync.WaitGroup
	flow.Add(1)
	go func() {
		defer flow.Done()
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			check := func(what string, req request, ok func(response) bool) {
				r, err := c.tryDo(req)
				if err != nil {
					t.Errorf("background: %s: %v", what, err)
				} else if !ok(r) {
					t.Errorf("background: %s: %d %v", what, r.status, r.body)
				}
			}
			check("revoked token (want 401 token_revoked or 503)", request{method: "GET", path: "/me", bearer: revoked}, func(r response) bool {
				return (r.status == http.StatusUnauthorized && r.code() == "token_revoked") || unavailable(r)
			})
			check("valid token (want 200 or 503)", request{method: "GET", path: "/me", bearer: valid}, func(r response) bool {
				return r.status == http.StatusOK || unavailable(r)
			})
			check("login with the right password (want 200 or 503)", request{method: "POST", path: "/login",
				body: map[string]any{"username": "bob", "password": password}}, func(r response) bool {
				return r.status == http.StatusOK || unavailable(r)
			})
		}
	}()
	stopFlow := func() { close(done); flow.Wait() }
	defer func() {
		select {
		case <-done:
		default:
			stopFlow()
		}
	}()

	pr.stop(t)

	// Requests keep flowing. The verify path makes no Redis call: the
	// mirror answers until it can no longer vouch for being within its
	// bound, then every token gets 503. Never a 200 for the revoked token,
	// never a 401 for the valid one.
	staleAfter, ok := pollUntil(3*time.Second, 20*time.Millisecond, func() bool {
		if r := c.me(t, revoked); r.status == http.StatusOK ||
			(r.status == http.StatusUnauthorized && r.code() != "token_revoked") {
			t.Fatalf("revoked token while Redis is down: %d %v", r.status, r.body)
		}
		r := c.me(t, valid)
		switch {
		case r.status == http.StatusOK:
			return false
		case r.status == http.StatusServiceUnavailable && r.code() == "unavailable":
			return true
		default:
			t.Fatalf("valid token while Redis is down: %d %v, want 200 or 503 unavailable", r.status, r.body)
			return false
		}
	})
	if !ok {
		t.Fatalf("valid token still accepted %v after Redis stopped: the mirror outlived its bound", staleAfter)
	}
	t.Logf("tokens refused with 503 %v after Redis stopped (bound %v)", staleAfter, revocationMaxStaleness)
	// The mirror's last confirmation is at most one poll older than the
	// stop, so it turns stale at most MaxStaleness after it.
	if margin := 500 * time.Millisecond; staleAfter > revocationMaxStaleness+margin {
		t.Errorf("503 only %v after Redis stopped, beyond the bound %v (+%v margin)", staleAfter, revocationMaxStaleness, margin)
	}
	assertUnavailable(t, "revoked token", c.me(t, revoked))
	assertUnavailable(t, "login with the right password", c.login(t, "bob", password))
	assertUnavailable(t, "login with a wrong password", c.login(t, "bob", "wrong password"))
	assertUnavailable(t, "refresh", c.do(t, request{method: "POST", path: "/refresh", body: map[string]any{"refresh_token": refresh}}))
	assertUnavailable(t, "login past a healthy limiter, right password", lockOnly.login(t, "bob", password))
	assertUnavailable(t, "login past a healthy limiter, wrong password", lockOnly.login(t, "bob", "wrong password"))
	assertUnavailable(t, "revoked token past a healthy limiter", lockOnly.me(t, revoked))

	pr.start(t)
	restarted := time.Now()
	recovered, ok := pollUntil(5*time.Second, 20*time.Millisecond, func() bool {
		r := c.me(t, valid)
		return r.status == http.StatusOK
	})
	if !ok {
		t.Fatalf("valid token still refused %v after Redis came back: %v", recovered, c.me(t, valid).body)
	}
	t.Logf("valid token accepted again %v after Redis restarted", time.Since(restarted))
	for name, s := range map[string]*stack{"C": c, "lockOnly": lockOnly} {
		if _, ok := pollUntil(5*time.Second, 20*time.Millisecond, func() bool { return s.me(t, valid).status == http.StatusOK }); !ok {
			t.Fatalf("valid token on %s after recovery: %v", name, s.me(t, valid).body)
		}
		// The revocation was persisted: the restart did not revive the
		// token.
		if r := s.me(t, revoked); r.status != http.StatusUnauthorized || r.code() != "token_revoked" {
			t.Errorf("revoked token on %s after recovery: %d %v, want 401 token_revoked", name, r.status, r.body)
		}
	}
	stopFlow()
	if r := c.do(t, request{method: "POST", path: "/refresh", body: map[string]any{"refresh_token": refresh}}); r.status != http.StatusOK {
		t.Errorf("refresh after recovery: %d %v", r.status, r.body)
	}
	if r := lockOnly.login(t, "bob", password); r.status != http.StatusOK {
		t.Errorf("login after recovery: %d %v", r.status, r.body)
	}
}

// TestLimiterOnClosedPort: an instance whose request limiter points at a
// port where nothing listens answers 503 unavailable on the limited routes,
// never a decision.
func TestLimiterOnClosedPort(t *testing.T) {
	sh := newShared(t)
	dead := fastFailClient(t, "127.0.0.1:"+strconv.Itoa(freePort(t)))
	if err := dead.Ping(context.Background()).Err(); err == nil {
		t.Fatal("something answers on the closed port")
	}
	c := sh.newStack(t, stackConfig{limiterRedis: dead})
	c.createUser(t, "alice")
	assertUnavailable(t, "login with the right password", c.login(t, "alice", password))
	assertUnavailable(t, "login with a wrong password", c.login(t, "alice", "wrong password"))
	assertUnavailable(t, "login of an unknown user", c.login(t, "nobody", "wrong password"))
}
