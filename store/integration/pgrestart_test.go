package integration_test

import (
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// privatePostgres is a PostgreSQL server of the test's own, in a temporary
// directory, that the test stops and starts. As root it runs as the
// "postgres" system user: the server refuses to run as root.
type privatePostgres struct {
	bindir string
	dir    string // owned by the server's user; holds data/ and server.log
	port   int
	asPG   bool
}

// postgresBindir returns the newest directory holding initdb and pg_ctl.
func postgresBindir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if fileExists(filepath.Join(dirs[i], "initdb")) && fileExists(filepath.Join(dirs[i], "pg_ctl")) {
			return dirs[i]
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	p := &privatePostgres{bindir: postgresBindir(), asPG: os.Geteuid() == 0}
	if p.bindir == "" {
		msg := "initdb and pg_ctl not found (Debian: apt-get install postgresql)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set: a missing server fails the tests)")
		}
		t.Skip(msg)
	}
	// Not t.TempDir: its parent is private to us, and the server's user
	// must reach the directory.
	dir, err := os.MkdirTemp("", "gatehouse-itest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p.dir = dir
	if p.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root without a postgres system user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	p.port = freePort(t)
	p.run(t, "initdb", "-D", p.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	p.start(t)
	t.Cleanup(func() {
		_ = p.command("pg_ctl", "stop", "-D", p.data(), "-m", "immediate", "-w").Run()
	})
	return p
}

func (p *privatePostgres) data() string { return filepath.Join(p.dir, "data") }

func (p *privatePostgres) url() string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(p.port) + "/postgres?sslmode=disable"
}

func (p *privatePostgres) command(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(p.bindir, name)
	if p.asPG {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func (p *privatePostgres) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := p.command(name, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		t.Fatalf("%s: %v\n%s\n%s", name, err, out, log)
	}
}

// start starts the server (fsync on: a committed row must survive).
func (p *privatePostgres) start(t *testing.T) {
	t.Helper()
	p.run(t, "pg_ctl", "start", "-D", p.data(), "-w", "-t", "30", "-l", filepath.Join(p.dir, "server.log"),
		"-o", "-c listen_addresses=127.0.0.1 -p "+strconv.Itoa(p.port)+" -k "+p.dir)
}

// crash stops the server the way a crash would: no shutdown checkpoint, so
// the next start replays the write-ahead log.
func (p *privatePostgres) crash(t *testing.T) {
	t.Helper()
	p.run(t, "pg_ctl", "stop", "-D", p.data(), "-m", "immediate", "-w")
}

// TestPostgresRestartKeepsCommittedState stops the PostgreSQL server under
// running instances as a crash would and starts it again: every committed
// user, API key and session is still there, and while the server is down
// the answers are 503, never a 401 that blames the user.
func TestPostgresRestartKeepsCommittedState(t *testing.T) {
	requireEnv(t, "GATEHOUSE_REDIS_URL")
	pp := startPrivatePostgres(t)
	sh := newSharedOn(t, pp.url())
	a := sh.newStack(t, stackConfig{})
	a.createUser(t, "alice")
	access, refresh := a.mustLogin(t, "alice")
	r := a.do(t, request{method: "POST", path: "/login", body: map[string]any{"username": "alice", "password": password, "session": true}})
	if r.status != http.StatusOK || len(r.cookies) == 0 {
		t.Fatalf("session login: %d %v", r.status, r.body)
	}
	cookies := r.cookies
	k := a.do(t, request{method: "POST", path: "/api-keys", bearer: access,
		body: map[string]any{"name": "ci", "permissions": []string{"dashboard:read"}}})
	if k.status != http.StatusCreated || k.str("api_key") == "" {
		t.Fatalf("create API key: %d %v", k.status, k.body)
	}
	apiKey := k.str("api_key")

	pp.crash(t)
	assertDown := func(what string, r response) {
		t.Helper()
		if r.status != http.StatusServiceUnavailable || r.code() != "unavailable" {
			t.Errorf("%s while PostgreSQL is down: %d %v, want 503 unavailable", what, r.status, r.body)
		}
	}
	assertDown("login", a.login(t, "alice", password))
	assertDown("session", a.do(t, request{method: "GET", path: "/me", cookies: cookies}))
	assertDown("API key", a.me(t, apiKey))
	assertDown("refresh", a.do(t, request{method: "POST", path: "/refresh", body: map[string]any{"refresh_token": refresh}}))

	pp.start(t)
	restarted := time.Now()
	// b is an instance started after the restart; a kept its pool through it.
	b := sh.newStack(t, stackConfig{})
	for name, s := range map[string]*stack{"A (through the restart)": a, "B (started after it)": b} {
		checks := []struct {
			what string
			req  request
		}{
			{"session", request{method: "GET", path: "/me", cookies: cookies}},
			{"API key", request{method: "GET", path: "/me", bearer: apiKey}},
			{"login", request{method: "POST", path: "/login", body: map[string]any{"username": "alice", "password": password}}},
		}
		for _, c := range checks {
			var last response
			// The pool may still hand out a connection of the old server
			// once: that request is a 503, the next one reconnects.
			if _, ok := pollUntil(10*time.Second, 50*time.Millisecond, func() bool {
				last = s.do(t, c.req)
				if last.status == http.StatusUnauthorized || last.status == http.StatusNotFound {
					t.Fatalf("%s on %s after the restart: %d %v: committed state lost", c.what, name, last.status, last.body)
				}
				return last.status == http.StatusOK
			}); !ok {
				t.Fatalf("%s on %s after the restart: %d %v", c.what, name, last.status, last.body)
			}
		}
	}
	t.Logf("committed user, session and API key served again %v after the restart", time.Since(restarted))
	// The refresh family survived too.
	if r := b.do(t, request{method: "POST", path: "/refresh", body: map[string]any{"refresh_token": refresh}}); r.status != http.StatusOK {
		t.Errorf("refresh after the restart: %d %v", r.status, r.body)
	}
}
