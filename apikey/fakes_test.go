package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/testclock"
)

// clock is the tests' settable clock.
type clock = testclock.Clock

func newClock() *clock { return testclock.New(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)) }

// policy grants each role a set of permissions and honours Scopes the way
// an RBAC policy does: effective = roles' permissions ∩ scopes.
type policy map[string][]string

func (p policy) Has(pr *auth.Principal, perm string) bool {
	if pr == nil || (pr.Scopes != nil && !slices.Contains(pr.Scopes, perm)) {
		return false
	}
	for _, r := range pr.Roles {
		if slices.Contains(p[r], perm) {
			return true
		}
	}
	return false
}

var plantPolicy = policy{
	"operator":   {"predictions:read", "alerts:read"},
	"supervisor": {"predictions:read", "alerts:read", "predictions:write"},
	"admin":      {"predictions:read", "alerts:read", "predictions:write", "models:deploy", "users:delete"},
}

// owners is the host's user directory.
type owners struct {
	mu       sync.Mutex // guards users, disabled and fail
	users    map[string]*auth.Principal
	disabled map[string]bool
	fail     error
	calls    atomic.Int64
}

func newOwners() *owners {
	return &owners{users: map[string]*auth.Principal{}, disabled: map[string]bool{}}
}

func (o *owners) add(id, username string, roles ...string) *auth.Principal {
	p := &auth.Principal{Subject: id, Username: username, Email: username + "@plant.example", Roles: roles}
	o.mu.Lock()
	o.users[id] = p
	o.mu.Unlock()
	return p
}

func (o *owners) setRoles(id string, roles ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := *o.users[id]
	c.Roles = roles
	o.users[id] = &c
}

func (o *owners) disable(id string) {
	o.mu.Lock()
	o.disabled[id] = true
	o.mu.Unlock()
}

func (o *owners) remove(id string) {
	o.mu.Lock()
	delete(o.users, id)
	o.mu.Unlock()
}

func (o *owners) failWith(err error) {
	o.mu.Lock()
	o.fail = err
	o.mu.Unlock()
}

func (o *owners) Owner(ctx context.Context, id string) (*auth.Principal, error) {
	o.calls.Add(1)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return nil, o.fail
	}
	if o.disabled[id] {
		return nil, fmt.Errorf("user %s: %w", id, apikey.ErrOwnerDisabled)
	}
	p, ok := o.users[id]
	if !ok {
		return nil, fmt.Errorf("user %s: %w", id, apikey.ErrNotFound)
	}
	return p, nil
}

// countingStore counts the calls to each method of the store it wraps and
// can be made to fail.
type countingStore struct {
	apikey.Store
	creates, lookups, gets, lists, updates atomic.Int64

	mu      sync.Mutex // guards fail and updated
	fail    error
	updated []apikey.Update
	onWrite chan struct{} // if set, signalled after each successful Update
}

func newCountingStore() *countingStore { return &countingStore{Store: apikey.NewMemoryStore()} }

func (s *countingStore) failWith(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

func (s *countingStore) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail
}

func (s *countingStore) Create(ctx context.Context, k *apikey.Key, rot *apikey.Rotation) error {
	s.creates.Add(1)
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.Create(ctx, k, rot)
}

func (s *countingStore) Lookup(ctx context.Context, h apikey.Hash) (*apikey.Key, error) {
	s.lookups.Add(1)
	if err := s.failure(); err != nil {
		return nil, err
	}
	return s.Store.Lookup(ctx, h)
}

func (s *countingStore) Get(ctx context.Context, id string) (*apikey.Key, error) {
	s.gets.Add(1)
	if err := s.failure(); err != nil {
		return nil, err
	}
	return s.Store.Get(ctx, id)
}

func (s *countingStore) List(ctx context.Context, owner string) ([]*apikey.Key, error) {
	s.lists.Add(1)
	if err := s.failure(); err != nil {
		return nil, err
	}
	return s.Store.List(ctx, owner)
}

func (s *countingStore) Update(ctx context.Context, id string, u apikey.Update) error {
	s.updates.Add(1)
	if err := s.failure(); err != nil {
		return err
	}
	if err := s.Store.Update(ctx, id, u); err != nil {
		return err
	}
	s.mu.Lock()
	s.updated = append(s.updated, u)
	ch := s.onWrite
	s.mu.Unlock()
	if ch != nil {
		ch <- struct{}{}
	}
	return nil
}

func (s *countingStore) calls() int64 {
	return s.creates.Load() + s.lookups.Load() + s.gets.Load() + s.lists.Load() + s.updates.Load()
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex // guards events
	events []auth.Event
}

func (r *recorder) Emit(e auth.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) all() []auth.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) of(t auth.EventType) []auth.Event {
	var out []auth.Event
	for _, e := range r.all() {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

// env is a manager over fakes.
type env struct {
	m      *apikey.Manager
	store  *countingStore
	owners *owners
	clock  *clock
	events *recorder
	alice  *auth.Principal // supervisor
	bob    *auth.Principal // operator
}

func newEnv(t *testing.T, mod ...func(*apikey.Config)) *env {
	t.Helper()
	e := &env{store: newCountingStore(), owners: newOwners(), clock: newClock(), events: &recorder{}}
	e.alice = e.owners.add("u-alice", "alice", "supervisor")
	e.bob = e.owners.add("u-bob", "bob", "operator")
	cfg := apikey.Config{
		Store:         e.store,
		Owners:        e.owners,
		Policy:        plantPolicy,
		HashKey:       []byte("0123456789abcdef0123456789abcdef"),
		FlushInterval: -1,
		Now:           e.clock.Now,
		Events:        e.events,
	}
	for _, f := range mod {
		f(&cfg)
	}
	m, err := apikey.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	e.m = m
	return e
}

func (e *env) create(t *testing.T, owner *auth.Principal, perms ...string) (string, *apikey.Key) {
	t.Helper()
	plain, k, err := e.m.Create(context.Background(), owner, apikey.Params{Name: "scada", Permissions: perms})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return plain, k
}

// wantRejected asserts err is the client-facing invalid_token wrapping cause.
func wantRejected(t *testing.T, err, cause error) {
	t.Helper()
	if !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("err = %v; want invalid_token", err)
	}
	if !errors.Is(err, cause) {
		t.Fatalf("err = %v; want it to wrap %v", err, cause)
	}
	if ae := auth.AsError(err); ae.ClientDescription() != "invalid API key" {
		t.Fatalf("client description %q reveals more than 'invalid API key'", ae.ClientDescription())
	}
}
