package basic_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/basic/basictest"
)

func TestMemoryStoreConformance(t *testing.T) {
	basictest.Run(t, func(t *testing.T) basic.UserStore { return basic.NewMemoryStore() })
}

func TestMemoryStoreResetTokenConformance(t *testing.T) {
	basictest.RunResetTokens(t, func(t *testing.T) basic.ResetTokenStore { return basic.NewMemoryStore() })
}

func TestCreateValidation(t *testing.T) {
	knownRoles := []string{"operator", "supervisor", "engineer", "admin"}
	e := newEnv(t, func(cfg *basic.Config) {
		cfg.Roles = func(r string) bool { return slices.Contains(knownRoles, r) }
	})
	e.create(t, "taken", "taken@example.com")
	ok := basic.NewUser{Username: "new_user", Email: "new@example.com", Password: goodPassword, Roles: []string{"operator"}}
	tests := []struct {
		name  string
		mod   func(u *basic.NewUser)
		code  auth.Code
		field string
	}{
		{"empty username", func(u *basic.NewUser) { u.Username = "" }, auth.CodeInvalidRequest, "username"},
		{"username with a space", func(u *basic.NewUser) { u.Username = "new user" }, auth.CodeInvalidRequest, "username"},
		{"username with a colon breaks Basic", func(u *basic.NewUser) { u.Username = "new:user" }, auth.CodeInvalidRequest, "username"},
		{"username with a zero-width space", func(u *basic.NewUser) { u.Username = "ad\u200bmin" }, auth.CodeInvalidRequest, "username"},
		{"username with a newline", func(u *basic.NewUser) { u.Username = "admin\n" }, auth.CodeInvalidRequest, "username"},
		{"65-character username", func(u *basic.NewUser) { u.Username = strings.Repeat("u", 65) }, auth.CodeInvalidRequest, "username"},
		{"email with a display name", func(u *basic.NewUser) { u.Email = "New <new@example.com>" }, auth.CodeInvalidRequest, "email"},
		{"email without at sign", func(u *basic.NewUser) { u.Email = "new.example.com" }, auth.CodeInvalidRequest, "email"},
		{"unknown role", func(u *basic.NewUser) { u.Roles = []string{"operator", "root"} }, auth.CodeInvalidRequest, "roles"},
		{"role with a space", func(u *basic.NewUser) { u.Roles = []string{"super visor"} }, auth.CodeInvalidRequest, "roles"},
		{"weak password", func(u *basic.NewUser) { u.Password = "short" }, auth.CodePasswordPolicy, ""},
		{"password containing the username", func(u *basic.NewUser) { u.Password = "my name is new_user ok" }, auth.CodePasswordPolicy, ""},
		{"username taken in other case", func(u *basic.NewUser) { u.Username = "TAKEN" }, auth.CodeConflict, ""},
		{"email taken in other case", func(u *basic.NewUser) { u.Email = "Taken@Example.com" }, auth.CodeConflict, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nu := ok
			tc.mod(&nu)
			_, err := e.users.Create(context.Background(), nu)
			var ae *auth.Error
			if !errors.As(err, &ae) || ae.Code != tc.code {
				t.Fatalf("Create = %v, want %s", err, tc.code)
			}
			if tc.field != "" && ae.Details["field"] != tc.field {
				t.Fatalf("Details = %v, want field %q", ae.Details, tc.field)
			}
		})
	}
	u, err := e.users.Create(context.Background(), basic.NewUser{
		Username: "new_user", Password: goodPassword, Roles: []string{"admin", "admin", "operator"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Roles, []string{"admin", "operator"}) || u.Version != 1 || u.PasswordHash != "" {
		t.Fatalf("created %+v", u)
	}
	if ev, ok := e.events.last(auth.EventUserCreated); !ok || ev.Subject != u.ID {
		t.Fatalf("user_created = %+v, %v", ev, ok)
	}
	_, err = e.users.Create(context.Background(), basic.NewUser{Username: "x_user", Password: goodPassword, Roles: []string{"root"}})
	var ae *auth.Error
	if !errors.As(err, &ae) || !slices.Equal(ae.Details["unknown_roles"].([]string), []string{"root"}) {
		t.Fatalf("unknown role details: %v", err)
	}
}

func TestGetUpdateDeleteList(t *testing.T) {
	ctx := context.Background()
	var revoked []string
	e := newEnv(t, func(cfg *basic.Config) {
		cfg.OnCredentialsChanged = func(ctx context.Context, id string) error {
			revoked = append(revoked, id)
			return nil
		}
	})
	a := e.create(t, "alice", "alice@example.com")
	b := e.create(t, "bob", "bob@example.com")

	for _, get := range []func() (*basic.User, error){
		func() (*basic.User, error) { return e.users.Get(ctx, a.ID) },
		func() (*basic.User, error) { return e.users.GetByUsername(ctx, "ALICE") },
		func() (*basic.User, error) { return e.users.GetByEmail(ctx, "Alice@Example.com") },
	} {
		u, err := get()
		if err != nil || u.ID != a.ID || u.PasswordHash != "" {
			t.Fatalf("lookup = %+v, %v", u, err)
		}
	}
	if _, err := e.users.Get(ctx, "usr_nope"); !errors.Is(err, auth.ErrNotFound) || !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("Get of a missing user: %v", err)
	}

	name, email := "alicia", "alicia@example.com"
	u, err := e.users.Update(ctx, a.ID, basic.UserUpdate{Username: &name, Email: &email, Roles: []string{"engineer"}})
	if err != nil || u.Username != "alicia" || u.Version != 2 || !slices.Equal(u.Roles, []string{"engineer"}) {
		t.Fatalf("Update = %+v, %v", u, err)
	}
	if ev, _ := e.events.last(auth.EventUserUpdated); ev.Attrs["fields"] != "username,email,roles" {
		t.Fatalf("user_updated fields = %q", ev.Attrs["fields"])
	}
	if len(revoked) != 0 {
		t.Fatal("a rename revoked credentials")
	}
	// A stale If-Match version is refused.
	bobName := "bobby"
	if _, err := e.users.Update(ctx, b.ID, basic.UserUpdate{Username: &bobName, Version: 7}); !errors.Is(err, auth.ErrConflict) || !errors.Is(err, basic.ErrVersionConflict) {
		t.Fatalf("Update with a stale version: %v", err)
	}
	taken := "ALICIA"
	if _, err := e.users.Update(ctx, b.ID, basic.UserUpdate{Username: &taken}); !errors.Is(err, auth.ErrConflict) || !errors.Is(err, basic.ErrDuplicate) {
		t.Fatalf("rename onto a taken name: %v", err)
	}

	if err := e.users.Disable(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(revoked, []string{b.ID}) {
		t.Fatalf("Disable revoked %v", revoked)
	}
	if err := e.users.Disable(ctx, b.ID); err != nil || len(revoked) != 1 {
		t.Fatalf("disabling twice: %v, revoked %v", err, revoked)
	}
	if err := e.users.Enable(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.users.Authenticate(ctx, "bob", goodPassword); err != nil {
		t.Fatalf("after Enable: %v", err)
	}

	page, next, err := e.users.List(ctx, "", 1)
	if err != nil || len(page) != 1 || next == "" || page[0].PasswordHash != "" {
		t.Fatalf("List page 1 = %v, %q, %v", page, next, err)
	}
	page2, next2, err := e.users.List(ctx, next, 1)
	if err != nil || len(page2) != 1 || next2 != "" || page2[0].ID == page[0].ID {
		t.Fatalf("List page 2 = %v, %q, %v", page2, next2, err)
	}

	if err := e.users.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(revoked, []string{b.ID, b.ID}) {
		t.Fatalf("Delete revoked %v", revoked)
	}
	if _, err := e.users.Get(ctx, b.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
	if err := e.users.Delete(ctx, b.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Fatalf("Delete twice: %v", err)
	}
	if e.events.count(auth.EventUserDeleted) != 1 {
		t.Fatal("want one user_deleted event")
	}
}

func TestConcurrentUpdatesAllApply(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	u := e.create(t, "alice", "")
	// Without a version, concurrent updates of different fields retry on
	// conflicts and none is lost.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, err := e.users.Update(ctx, u.ID, basic.UserUpdate{Roles: []string{"engineer"}})
		errs <- err
	}()
	go func() {
		defer wg.Done()
		email := "alice@example.com"
		_, err := e.users.Update(ctx, u.ID, basic.UserUpdate{Email: &email})
		errs <- err
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := e.users.Get(ctx, u.ID)
	if got.Email != "alice@example.com" || !slices.Equal(got.Roles, []string{"engineer"}) || got.Version != 3 {
		t.Fatalf("after two concurrent updates: %+v", got)
	}
}

func TestNewConfigErrors(t *testing.T) {
	h := cheapHasher(t, basic.Argon2id)
	for name, cfg := range map[string]basic.Config{
		"history size 25":     {Hasher: h, PasswordHistory: true, PasswordHistorySize: 25},
		"negative reset TTL":  {Hasher: h, ResetTokenTTL: -1},
		"reset TTL of a week": {Hasher: h, ResetTokenTTL: 7 * 24 * 60 * 60 * 1e9},
		"min length 4":        {Hasher: h, Policy: basic.PolicyConfig{MinLength: 4}},
	} {
		if _, err := basic.New(cfg); !errors.Is(err, basic.ErrInvalidConfig) {
			t.Errorf("%s: New = %v, want ErrInvalidConfig", name, err)
		}
	}
}
