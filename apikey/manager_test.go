package apikey_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
)

func TestNewRejectsBadConfig(t *testing.T) {
	ok := apikey.Config{Owners: newOwners(), Policy: plantPolicy, FlushInterval: -1}
	tests := []struct {
		name string
		mod  func(*apikey.Config)
	}{
		{"no owner lookup", func(c *apikey.Config) { c.Owners = nil }},
		{"no permission checker", func(c *apikey.Config) { c.Policy = nil }},
		{"hash key of 16 bytes", func(c *apikey.Config) { c.HashKey = make([]byte, 16) }},
		{"empty non-nil hash key", func(c *apikey.Config) { c.HashKey = []byte{} }},
		{"prefix without underscore", func(c *apikey.Config) { c.Format.Prefix = "gk" }},
		{"body of 16 characters", func(c *apikey.Config) { c.Format.BodyLength = 16 }},
		{"negative lifetime", func(c *apikey.Config) { c.MaxLifetime = -time.Hour }},
		{"negative grace", func(c *apikey.Config) { c.MaxRotationGrace = -time.Hour }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.mod(&cfg)
			if m, err := apikey.New(cfg); err == nil {
				_ = m.Close(context.Background())
				t.Fatal("New accepted the config")
			}
		})
	}
	m, err := apikey.New(ok)
	if err != nil {
		t.Fatalf("New(minimal config) = %v", err)
	}
	_ = m.Close(context.Background())
}

func TestCreateAndVerify(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	plain, k, err := e.m.Create(ctx, e.alice, apikey.Params{
		Name:        "SCADA line 3",
		Description: "reads predictions\nfor the furnace",
		Permissions: []string{"predictions:read", "alerts:read", "predictions:read"},
		ExpiresAt:   e.clock.Now().Add(30 * 24 * time.Hour),
		Metadata:    map[string]string{"line": "3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.m.Format().Check(plain); err != nil {
		t.Fatalf("created key %q fails its own format: %v", plain, err)
	}
	if k.OwnerID != "u-alice" || k.Prefix != plain[:7] || !k.Hash.IsZero() ||
		!slices.Equal(k.Permissions, []string{"alerts:read", "predictions:read"}) {
		t.Fatalf("record = %+v", k)
	}
	p, err := e.m.Verify(ctx, plain)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := auth.Principal{Subject: "u-alice", Username: "alice", Email: "alice@plant.example",
		Roles: []string{"supervisor"}, Scopes: []string{"alerts:read", "predictions:read"},
		Method: auth.MethodAPIKey, CredentialID: k.ID, ExpiresAt: k.ExpiresAt}
	if p.Subject != want.Subject || p.Username != want.Username || p.Email != want.Email ||
		!slices.Equal(p.Roles, want.Roles) || !slices.Equal(p.Scopes, want.Scopes) ||
		p.Method != want.Method || p.CredentialID != want.CredentialID || !p.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("principal = %+v\nwant        %+v", p, want)
	}
	// The principal's scopes are its own: changing them changes no key.
	p.Scopes[0] = "users:delete"
	again, err := e.m.Verify(ctx, plain)
	if err != nil || !slices.Equal(again.Scopes, want.Scopes) {
		t.Fatalf("after modifying a principal's scopes: %+v, %v", again, err)
	}
}

func TestStoreSeesOnlyTheHash(t *testing.T) {
	e := newEnv(t)
	plain, k := e.create(t, e.alice, "predictions:read")
	stored, err := e.store.Store.Get(context.Background(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Hash == sha256.Sum256([]byte(plain)) {
		t.Error("with a HashKey the stored hash is a plain SHA-256")
	}
	if stored.Hash != e.m.Hash(plain) {
		t.Error("stored hash is not the manager's hash of the key")
	}
	raw, _ := json.Marshal(stored)
	if strings.Contains(string(raw), plain[7:]) || strings.Contains(fmt.Sprintf("%+v", stored), plain[7:]) {
		t.Errorf("stored record contains the key body: %s", raw)
	}

	// The same store under another HashKey recognises no key.
	other, err := apikey.New(apikey.Config{Store: e.store, Owners: e.owners, Policy: plantPolicy,
		HashKey: []byte("another server secret of 32 byte"), FlushInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.Verify(context.Background(), plain)
	wantRejected(t, err, apikey.ErrNotFound)
}

func TestSHA256WithoutHashKey(t *testing.T) {
	e := newEnv(t, func(c *apikey.Config) { c.HashKey = nil })
	plain, k := e.create(t, e.alice)
	stored, err := e.store.Store.Get(context.Background(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Hash != sha256.Sum256([]byte(plain)) {
		t.Error("without a HashKey the stored hash is not SHA-256 of the key")
	}
	if _, err := e.m.Verify(context.Background(), plain); err != nil {
		t.Fatal(err)
	}
}

func TestChecksumCheckedBeforeAnyStoreCall(t *testing.T) {
	e := newEnv(t)
	plain, _ := e.create(t, e.alice, "predictions:read")
	before := e.store.calls()
	flip := func(c byte) byte {
		if c == 'A' {
			return 'B'
		}
		return 'A'
	}
	mistyped := plain[:10] + string(flip(plain[10])) + plain[11:]
	tests := []struct {
		name  string
		key   string
		cause error
	}{
		{"one character mistyped", mistyped, apikey.ErrChecksum},
		{"last character dropped", plain[:len(plain)-1], apikey.ErrMalformed},
		{"invented key with a random checksum", "gk_" + strings.Repeat("x", 32) + "AbCdEf", apikey.ErrChecksum},
		{"JWT sent as a key", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", apikey.ErrMalformed},
		{"key of another product", "tfx_" + plain[3:], apikey.ErrMalformed},
		{"empty", "", apikey.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.m.Verify(context.Background(), tc.key)
			wantRejected(t, err, tc.cause)
		})
	}
	if n := e.store.calls() - before; n != 0 {
		t.Fatalf("%d store calls for keys with bad checksums; want 0", n)
	}
	if n := e.owners.calls.Load(); n != 0 {
		t.Fatalf("%d owner lookups for bad keys; want 0", n)
	}
	// A well-formed unknown key costs exactly one lookup.
	unknown, _ := e.m.Format().Generate()
	_, err := e.m.Verify(context.Background(), unknown)
	wantRejected(t, err, apikey.ErrNotFound)
	if n := e.store.lookups.Load(); n != 1 {
		t.Fatalf("%d lookups for a well-formed unknown key; want 1", n)
	}
	if n := e.store.calls() - before; n != 1 {
		t.Fatalf("%d store calls for a well-formed unknown key; want 1", n)
	}
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	exp := e.clock.Now().Add(time.Hour)
	plain, _, err := e.m.Create(ctx, e.alice, apikey.Params{Name: "temp", ExpiresAt: exp})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour - time.Nanosecond)
	if _, err := e.m.Verify(ctx, plain); err != nil {
		t.Fatalf("one nanosecond before expiry: %v", err)
	}
	e.clock.Advance(time.Nanosecond)
	_, err = e.m.Verify(ctx, plain)
	wantRejected(t, err, apikey.ErrExpired)
	if rej := e.events.of(auth.EventAPIKeyRejected); len(rej) != 1 || rej[0].Reason != "expired" {
		t.Fatalf("rejected events = %+v", rej)
	}
}

func TestRevocationIsImmediate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	plain, k := e.create(t, e.alice, "predictions:read")
	if _, err := e.m.Verify(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.m.Verify(ctx, plain)
	wantRejected(t, err, apikey.ErrRevoked)
	if err := e.m.Revoke(ctx, k.ID); err != nil {
		t.Fatalf("second revocation: %v", err)
	}
	if n := len(e.events.of(auth.EventAPIKeyRevoked)); n != 1 {
		t.Errorf("%d revoked events for two revocations of one key; want 1", n)
	}
	err = e.m.Revoke(ctx, "no-such-key")
	if !errors.Is(err, auth.ErrNotFound) || !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("Revoke(missing) = %v; want not_found wrapping ErrNotFound", err)
	}
}

func TestRotationOverlapAndEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	oldPlain, old := e.create(t, e.alice, "predictions:read", "alerts:read")
	newPlain, next, err := e.m.Rotate(ctx, old.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if newPlain == oldPlain || next.ID == old.ID || next.RotatedFrom != old.ID ||
		!slices.Equal(next.Permissions, old.Permissions) || next.Name != old.Name {
		t.Fatalf("successor = %+v", next)
	}
	// Both work during the grace period.
	e.clock.Advance(time.Hour - time.Second)
	for _, k := range []string{oldPlain, newPlain} {
		if _, err := e.m.Verify(ctx, k); err != nil {
			t.Fatalf("during grace: %v", err)
		}
	}
	// Only the new one after it.
	e.clock.Advance(time.Second)
	_, err = e.m.Verify(ctx, oldPlain)
	wantRejected(t, err, apikey.ErrExpired)
	if rej := e.events.of(auth.EventAPIKeyRejected); len(rej) != 1 || rej[0].Reason != "rotated" {
		t.Fatalf("rejected events = %+v; want one with reason rotated", rej)
	}
	if _, err := e.m.Verify(ctx, newPlain); err != nil {
		t.Fatalf("after grace, new key: %v", err)
	}
	got, err := e.m.Get(ctx, old.ID)
	if err != nil || got.ReplacedBy != next.ID {
		t.Fatalf("old key = %+v, %v", got, err)
	}
	rot := e.events.of(auth.EventAPIKeyRotated)
	if len(rot) != 1 || rot[0].Attrs["key_id"] != next.ID || rot[0].Attrs["previous_key_id"] != old.ID {
		t.Fatalf("rotated events = %+v", rot)
	}
}

func TestRotateTwice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	k1Plain, k1 := e.create(t, e.alice, "predictions:read")
	k2Plain, k2, err := e.m.Rotate(ctx, k1.ID, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The rotated key cannot be rotated again...
	_, _, err = e.m.Rotate(ctx, k1.ID, time.Hour)
	if !errors.Is(err, auth.ErrConflict) || !errors.Is(err, apikey.ErrRotated) {
		t.Fatalf("rotating k1 again = %v; want conflict wrapping ErrRotated", err)
	}
	// ...but its successor can, and k1 keeps its own deadline.
	e.clock.Advance(time.Hour)
	k3Plain, _, err := e.m.Rotate(ctx, k2.ID, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{k1Plain, k2Plain, k3Plain} {
		if _, err := e.m.Verify(ctx, k); err != nil {
			t.Fatalf("all three in their windows: %v", err)
		}
	}
	e.clock.Advance(30 * time.Minute) // k2's grace ends; k1 has 30 minutes left
	_, err = e.m.Verify(ctx, k2Plain)
	wantRejected(t, err, apikey.ErrExpired)
	if _, err := e.m.Verify(ctx, k1Plain); err != nil {
		t.Fatalf("k1 before its own deadline: %v", err)
	}
	e.clock.Advance(30 * time.Minute)
	_, err = e.m.Verify(ctx, k1Plain)
	wantRejected(t, err, apikey.ErrExpired)
	if _, err := e.m.Verify(ctx, k3Plain); err != nil {
		t.Fatal(err)
	}
}

func TestRotateRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	plain, k := e.create(t, e.alice, "predictions:read")
	for _, grace := range []time.Duration{-time.Second, 8 * 24 * time.Hour} {
		if _, _, err := e.m.Rotate(ctx, k.ID, grace); !errors.Is(err, auth.ErrInvalidRequest) {
			t.Errorf("Rotate(grace %v) = %v; want invalid_request", grace, err)
		}
	}
	if _, _, err := e.m.Rotate(ctx, "missing", time.Hour); !errors.Is(err, apikey.ErrNotFound) ||
		!errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Rotate(missing) = %v", err)
	}
	// Grace zero ends the old key at once.
	newPlain, _, err := e.m.Rotate(ctx, k.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.m.Verify(ctx, plain)
	wantRejected(t, err, apikey.ErrExpired)
	if _, err := e.m.Verify(ctx, newPlain); err != nil {
		t.Fatal(err)
	}
	_, revoked := e.create(t, e.alice)
	if err := e.m.Revoke(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.m.Rotate(ctx, revoked.ID, time.Hour); !errors.Is(err, apikey.ErrRevoked) ||
		!errors.Is(err, auth.ErrConflict) {
		t.Errorf("rotating a revoked key = %v; want conflict wrapping ErrRevoked", err)
	}
	// A store failure leaves nothing half done: the retry succeeds.
	_, k2 := e.create(t, e.alice)
	e.store.failWith(errors.New("connection reset"))
	_, _, err = e.m.Rotate(ctx, k2.ID, time.Hour)
	if err == nil || errors.As(err, new(*auth.Error)) {
		t.Fatalf("Rotate with store down = %v; want a plain error", err)
	}
	e.store.failWith(nil)
	if _, _, err := e.m.Rotate(ctx, k2.ID, time.Hour); err != nil {
		t.Fatalf("retry after store failure: %v", err)
	}
}

func TestCreateRefusesEscalation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		creator *auth.Principal
		perms   []string
		missing []string
	}{
		{"operator asks for write", e.bob, []string{"predictions:read", "predictions:write"}, []string{"predictions:write"}},
		{"supervisor asks for deploy and delete", e.alice, []string{"models:deploy", "users:delete", "alerts:read"},
			[]string{"models:deploy", "users:delete"}},
		{"key-authenticated admin asks beyond its key", &auth.Principal{Subject: "u-root", Roles: []string{"admin"},
			Scopes: []string{"predictions:read"}, Method: auth.MethodAPIKey}, []string{"models:deploy"}, []string{"models:deploy"}},
		{"principal without roles", &auth.Principal{Subject: "u-ghost"}, []string{"alerts:read"}, []string{"alerts:read"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, k, err := e.m.Create(ctx, tc.creator, apikey.Params{Name: "x", Permissions: tc.perms})
			if k != nil || !errors.Is(err, auth.ErrInsufficientPermissions) || !errors.Is(err, apikey.ErrEscalation) {
				t.Fatalf("Create = %v, %v; want insufficient_permissions wrapping ErrEscalation", k, err)
			}
			for _, p := range tc.missing {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("internal error %q does not name %s", err, p)
				}
				if strings.Contains(auth.AsError(err).ClientDescription(), p) {
					t.Errorf("client description names %s", p)
				}
			}
		})
	}
	if n := e.store.creates.Load(); n != 0 {
		t.Fatalf("%d keys stored by refused creations", n)
	}
	if n := len(e.events.of(auth.EventAPIKeyCreated)); n != 0 {
		t.Fatalf("%d created events for refused creations", n)
	}
}

func TestCreateValidatesParams(t *testing.T) {
	e := newEnv(t, func(c *apikey.Config) { c.MaxLifetime = 90 * 24 * time.Hour })
	now := e.clock.Now()
	soon := now.Add(24 * time.Hour)
	tests := []struct {
		name string
		p    apikey.Params
	}{
		{"no name", apikey.Params{ExpiresAt: soon}},
		{"name with a newline", apikey.Params{Name: "a\nb", ExpiresAt: soon}},
		{"name of invalid UTF-8", apikey.Params{Name: "\xff", ExpiresAt: soon}},
		{"name too long", apikey.Params{Name: strings.Repeat("n", apikey.MaxNameLength+1), ExpiresAt: soon}},
		{"description with an escape sequence", apikey.Params{Name: "n", Description: "\x1b[31m", ExpiresAt: soon}},
		{"wildcard permission", apikey.Params{Name: "n", Permissions: []string{"*"}, ExpiresAt: soon}},
		{"resource wildcard", apikey.Params{Name: "n", Permissions: []string{"predictions:*"}, ExpiresAt: soon}},
		{"empty permission", apikey.Params{Name: "n", Permissions: []string{""}, ExpiresAt: soon}},
		{"permission with a space", apikey.Params{Name: "n", Permissions: []string{"alerts:read admin"}, ExpiresAt: soon}},
		{"too many permissions", apikey.Params{Name: "n", Permissions: make([]string, apikey.MaxPermissions+1), ExpiresAt: soon}},
		{"already expired", apikey.Params{Name: "n", ExpiresAt: now}},
		{"no expiry under MaxLifetime", apikey.Params{Name: "n"}},
		{"beyond MaxLifetime", apikey.Params{Name: "n", ExpiresAt: now.Add(91 * 24 * time.Hour)}},
		{"empty metadata key", apikey.Params{Name: "n", ExpiresAt: soon, Metadata: map[string]string{"": "v"}}},
		{"huge metadata value", apikey.Params{Name: "n", ExpiresAt: soon, Metadata: map[string]string{"k": strings.Repeat("v", 513)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.m.Create(context.Background(), e.alice, tc.p)
			if !errors.Is(err, auth.ErrInvalidRequest) {
				t.Fatalf("Create = %v; want invalid_request", err)
			}
		})
	}
	if _, _, err := e.m.Create(context.Background(), nil, apikey.Params{Name: "n"}); err == nil {
		t.Error("Create with a nil owner succeeded")
	}
}

func TestMaxKeysPerOwner(t *testing.T) {
	e := newEnv(t, func(c *apikey.Config) { c.MaxKeysPerOwner = 2 })
	ctx := context.Background()
	_, k1 := e.create(t, e.alice)
	e.create(t, e.alice)
	if _, _, err := e.m.Create(ctx, e.alice, apikey.Params{Name: "third"}); !errors.Is(err, auth.ErrConflict) {
		t.Fatalf("third key = %v; want conflict", err)
	}
	e.create(t, e.bob) // other owners are not affected
	if err := e.m.Revoke(ctx, k1.ID); err != nil {
		t.Fatal(err)
	}
	e.create(t, e.alice) // revoked keys do not count
}

func TestOwnerStateAtUse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	plain, _ := e.create(t, e.alice, "predictions:read", "predictions:write")

	p, err := e.m.Verify(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if !plantPolicy.Has(p, "predictions:write") {
		t.Fatal("supervisor's key cannot write")
	}
	// Demote the owner: the key loses what the owner lost, at once.
	e.owners.setRoles("u-alice", "operator")
	p, err = e.m.Verify(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if plantPolicy.Has(p, "predictions:write") || !plantPolicy.Has(p, "predictions:read") {
		t.Fatalf("after demotion: roles %v scopes %v", p.Roles, p.Scopes)
	}
	// Promote to admin: the key still cannot exceed its own permissions.
	e.owners.setRoles("u-alice", "admin")
	p, err = e.m.Verify(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if plantPolicy.Has(p, "models:deploy") {
		t.Fatal("key gained models:deploy from its owner's promotion")
	}

	e.owners.disable("u-alice")
	_, err = e.m.Verify(ctx, plain)
	wantRejected(t, err, apikey.ErrOwnerDisabled)

	e.owners.remove("u-alice")
	e.owners.mu.Lock()
	delete(e.owners.disabled, "u-alice")
	e.owners.mu.Unlock()
	_, err = e.m.Verify(ctx, plain)
	wantRejected(t, err, apikey.ErrNotFound)

	reasons := []string{}
	for _, ev := range e.events.of(auth.EventAPIKeyRejected) {
		reasons = append(reasons, ev.Reason)
	}
	if !slices.Equal(reasons, []string{"owner_disabled", "owner_not_found"}) {
		t.Errorf("reasons = %v", reasons)
	}
}

func TestOwnerScopesNarrowTheKey(t *testing.T) {
	e := newEnv(t)
	plain, _ := e.create(t, e.alice, "predictions:read", "alerts:read")
	e.owners.mu.Lock()
	narrowed := *e.owners.users["u-alice"]
	narrowed.Scopes = []string{"alerts:read"}
	e.owners.users["u-alice"] = &narrowed
	e.owners.mu.Unlock()
	p, err := e.m.Verify(context.Background(), plain)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Scopes, []string{"alerts:read"}) {
		t.Fatalf("Scopes = %v; want [alerts:read]", p.Scopes)
	}
}

func TestEmptyPermissionsGrantNothing(t *testing.T) {
	e := newEnv(t)
	plain, _ := e.create(t, e.alice)
	p, err := e.m.Verify(context.Background(), plain)
	if err != nil {
		t.Fatal(err)
	}
	if p.Scopes == nil || len(p.Scopes) != 0 {
		t.Fatalf("Scopes = %#v; want a non-nil empty slice", p.Scopes)
	}
	if plantPolicy.Has(p, "predictions:read") {
		t.Fatal("a key without permissions grants predictions:read")
	}
}

func TestFailuresAreNotBadKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	plain, _ := e.create(t, e.alice, "predictions:read")

	e.store.failWith(errors.New("connection refused"))
	_, err := e.m.Verify(ctx, plain)
	if err == nil || errors.As(err, new(*auth.Error)) || auth.AsError(err).Code != auth.CodeUnavailable {
		t.Fatalf("Verify with store down = %v; want a plain error (503)", err)
	}
	e.store.failWith(nil)

	e.owners.failWith(errors.New("user directory timeout"))
	_, err = e.m.Verify(ctx, plain)
	if err == nil || auth.AsError(err).Code != auth.CodeUnavailable {
		t.Fatalf("Principal with owner lookup down = %v; want 503", err)
	}
	if n := len(e.events.of(auth.EventAPIKeyRejected)); n != 0 {
		t.Fatalf("%d rejected events for outages", n)
	}
}

func TestListAndGetNeverReturnSecrets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p1, k1 := e.create(t, e.alice, "predictions:read")
	e.clock.Advance(time.Second)
	p2, k2 := e.create(t, e.alice, "alerts:read")
	e.create(t, e.bob)
	keys, err := e.m.List(ctx, "u-alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != k1.ID || keys[1].ID != k2.ID {
		t.Fatalf("List = %+v", keys)
	}
	got, err := e.m.Get(ctx, k1.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range append(keys, got) {
		raw, _ := json.Marshal(k)
		if !k.Hash.IsZero() || strings.Contains(string(raw), p1[7:]) || strings.Contains(string(raw), p2[7:]) ||
			strings.Contains(string(raw), e.m.Hash(p1).String()) {
			t.Errorf("listed key exposes material: %+v %s", k, raw)
		}
	}
	if _, err := e.m.Get(ctx, "nope"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("Get(missing) = %v; want not_found", err)
	}
}

func TestEventsNeverCarryTheKey(t *testing.T) {
	e := newEnv(t)
	ctx := auth.WithRequestMeta(context.Background(), auth.RequestMeta{ClientIP: "192.0.2.10", RequestID: "req-1"})
	plain, k, err := e.m.Create(ctx, e.alice, apikey.Params{Name: "n", Permissions: []string{"alerts:read"}})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = e.m.Verify(ctx, plain)
	_, _ = e.m.Verify(ctx, plain[:20]+"A"+plain[21:])
	newPlain, _, err := e.m.Rotate(ctx, k.ID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_ = e.m.Revoke(ctx, k.ID)
	_, _ = e.m.Verify(ctx, plain)

	seen := map[auth.EventType]bool{}
	for _, ev := range e.events.all() {
		seen[ev.Type] = true
		dump := fmt.Sprintf("%+v", ev)
		for _, secret := range []string{plain[7:], newPlain[7:], plain[3:20]} {
			if strings.Contains(dump, secret) {
				t.Errorf("event %s carries key material: %s", ev.Type, dump)
			}
		}
		if ev.Method != auth.MethodAPIKey || ev.RequestID != "req-1" || ev.ClientIP != "192.0.2.10" {
			t.Errorf("event %s lacks request metadata: %+v", ev.Type, ev)
		}
		for name := range ev.Attrs {
			if auth.IsSensitiveName(name) {
				t.Errorf("event %s attribute %q would be masked: pick a name for a non-secret", ev.Type, name)
			}
		}
	}
	for _, typ := range []auth.EventType{auth.EventAPIKeyCreated, auth.EventAPIKeyUsed, auth.EventAPIKeyRejected,
		auth.EventAPIKeyRotated, auth.EventAPIKeyRevoked} {
		if !seen[typ] {
			t.Errorf("no %s event", typ)
		}
	}
	rej := e.events.of(auth.EventAPIKeyRejected)
	if len(rej) != 2 || rej[0].Reason != "bad_checksum" || rej[1].Reason != "revoked" ||
		rej[1].Attrs["key_id"] != k.ID || rej[1].Subject != "u-alice" {
		t.Errorf("rejected events = %+v", rej)
	}
}

func TestConcurrentCreateVerifyRevoke(t *testing.T) {
	e := newEnv(t, func(c *apikey.Config) { c.MaxKeysPerOwner = -1 })
	ctx := context.Background()
	const workers = 16
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := e.alice
			if w%2 == 1 {
				owner = e.bob
			}
			for i := range 10 {
				plain, k, err := e.m.Create(ctx, owner, apikey.Params{Name: fmt.Sprintf("w%d-%d", w, i),
					Permissions: []string{"predictions:read"}})
				if err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				if _, err := e.m.Verify(ctx, plain); err != nil {
					t.Errorf("Verify fresh key: %v", err)
				}
				if i%3 == 0 {
					if err := e.m.Revoke(ctx, k.ID); err != nil {
						t.Errorf("Revoke: %v", err)
					}
					if _, err := e.m.Verify(ctx, plain); !errors.Is(err, apikey.ErrRevoked) {
						t.Errorf("Verify after revoke = %v", err)
					}
				}
				if i%3 == 1 {
					if _, _, err := e.m.Rotate(ctx, k.ID, time.Minute); err != nil {
						t.Errorf("Rotate: %v", err)
					}
				}
				if i%4 == 0 {
					if err := e.m.Flush(ctx); err != nil {
						t.Errorf("Flush: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	alice, err := e.m.List(ctx, "u-alice")
	if err != nil {
		t.Fatal(err)
	}
	// 8 workers x (10 created + 3 rotation successors for i = 1, 4, 7).
	if len(alice) != 8*13 {
		t.Fatalf("alice has %d keys; want %d", len(alice), 8*13)
	}
}
