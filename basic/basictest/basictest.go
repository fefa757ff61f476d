// Package basictest holds conformance suites for the storage interfaces of
// package basic. Adapter modules run them against their engine:
//
//	func TestUserStore(t *testing.T) {
//		basictest.Run(t, func(t *testing.T) basic.UserStore { return newEmptyStore(t) })
//	}
//
// Each call of newStore must return an empty store. The suites use only the
// interfaces, and pass time explicitly, so they run against any engine.
package basictest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/basic"
)

// Run tests a [basic.UserStore]: create and lookups (case-insensitive
// username and email), uniqueness, optimistic concurrency, delete, paging,
// copy isolation, and concurrent creates and updates.
func Run(t *testing.T, newStore func(t *testing.T) basic.UserStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s basic.UserStore)
	}{
		{"CreateThenGetByEveryField", testCreateGet},
		{"LookupsIgnoreCase", testLookupCase},
		{"MissingUserIsNotFoundNeverNil", testMissing},
		{"DuplicateUsernameInOtherCase", testDuplicateUsername},
		{"DuplicateEmailInOtherCase", testDuplicateEmail},
		{"DuplicateID", testDuplicateID},
		{"EmptyEmailIsNotUnique", testEmptyEmail},
		{"UpdateBumpsVersion", testUpdate},
		{"UpdateWithStaleVersionConflicts", testStaleUpdate},
		{"UpdateMissingUser", testUpdateMissing},
		{"RenameFreesOldNameAndTakesNew", testRename},
		{"RenameOntoTakenNameIsDuplicate", testRenameDuplicate},
		{"DeleteFreesUsernameAndEmail", testDelete},
		{"DeleteMissingIsNotAnError", testDeleteMissing},
		{"ListPagesInIDOrder", testList},
		{"ListEmptyStore", testListEmpty},
		{"ReturnedUsersAreCopies", testCopies},
		{"ConcurrentUpdatesFromOneVersionOneWins", testConcurrentUpdates},
		{"ConcurrentCreatesOfOneUsernameOneWins", testConcurrentCreates},
		{"ConcurrentCreatesOfOneEmailOneWins", testConcurrentCreatesEmail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

var epoch = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

func newUser(id, username, email string) *basic.User {
	return &basic.User{
		ID:                id,
		Username:          username,
		Email:             email,
		Roles:             []string{"operator"},
		CreatedAt:         epoch,
		UpdatedAt:         epoch,
		PasswordChangedAt: epoch,
		PasswordHash:      "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		PasswordHistory:   []string{"$2a$10$abcdefghijklmnopqrstuu1234567890123456789012345678901"},
	}
}

func mustCreate(t *testing.T, s basic.UserStore, u *basic.User) {
	t.Helper()
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", u.Username, err)
	}
}

func mustGet(t *testing.T, s basic.UserStore, f basic.UserField, v string) *basic.User {
	t.Helper()
	u, err := s.GetUser(context.Background(), f, v)
	if err != nil {
		t.Fatalf("GetUser(%d, %q): %v", f, v, err)
	}
	if u == nil {
		t.Fatalf("GetUser(%d, %q) returned nil, nil", f, v)
	}
	return u
}

func sameUser(t *testing.T, got, want *basic.User) {
	t.Helper()
	if got.ID != want.ID || got.Username != want.Username || got.Email != want.Email ||
		!slices.Equal(got.Roles, want.Roles) || got.Disabled != want.Disabled ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) ||
		!got.PasswordChangedAt.Equal(want.PasswordChangedAt) || got.Version != want.Version ||
		got.PasswordHash != want.PasswordHash || !slices.Equal(got.PasswordHistory, want.PasswordHistory) {
		t.Fatalf("stored user differs:\n got %+v\nwant %+v", got, want)
	}
}

func testCreateGet(t *testing.T, s basic.UserStore) {
	u := newUser("id-1", "Operator_001", "op1@example.com")
	mustCreate(t, s, u)
	if u.Version != 1 {
		t.Fatalf("CreateUser set Version %d, want 1", u.Version)
	}
	for _, q := range []struct {
		f basic.UserField
		v string
	}{{basic.ByID, "id-1"}, {basic.ByUsername, "Operator_001"}, {basic.ByEmail, "op1@example.com"}} {
		sameUser(t, mustGet(t, s, q.f, q.v), u)
	}
}

func testLookupCase(t *testing.T, s basic.UserStore) {
	u := newUser("id-1", "Ärger_Ops", "Ops.Team@Example.COM")
	mustCreate(t, s, u)
	for _, v := range []string{"ärger_ops", "ÄRGER_OPS", "äRgEr_oPs"} {
		if got := mustGet(t, s, basic.ByUsername, v); got.ID != "id-1" {
			t.Fatalf("GetUser(ByUsername, %q) = %s", v, got.ID)
		}
	}
	if got := mustGet(t, s, basic.ByEmail, "ops.team@example.com"); got.ID != "id-1" {
		t.Fatalf("GetUser(ByEmail) in lower case = %s", got.ID)
	}
	if got := mustGet(t, s, basic.ByUsername, "ärger_ops"); got.Username != "Ärger_Ops" {
		t.Fatalf("username case not preserved: %q", got.Username)
	}
	// IDs are exact.
	if _, err := s.GetUser(context.Background(), basic.ByID, "ID-1"); !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("GetUser(ByID) in other case: %v, want ErrNotFound", err)
	}
}

func testMissing(t *testing.T, s basic.UserStore) {
	mustCreate(t, s, newUser("id-1", "alice", "alice@example.com"))
	for _, q := range []struct {
		f basic.UserField
		v string
	}{{basic.ByID, "nope"}, {basic.ByUsername, "bob"}, {basic.ByEmail, "bob@example.com"}, {basic.ByEmail, ""}, {basic.ByUsername, ""}} {
		u, err := s.GetUser(context.Background(), q.f, q.v)
		if !errors.Is(err, basic.ErrNotFound) || u != nil {
			t.Fatalf("GetUser(%d, %q) = %v, %v; want nil, ErrNotFound", q.f, q.v, u, err)
		}
	}
}

func testDuplicateUsername(t *testing.T, s basic.UserStore) {
	mustCreate(t, s, newUser("id-1", "alice", "a1@example.com"))
	err := s.CreateUser(context.Background(), newUser("id-2", "ALICE", "a2@example.com"))
	if !errors.Is(err, basic.ErrDuplicate) {
		t.Fatalf("CreateUser with the username in upper case: %v, want ErrDuplicate", err)
	}
	if _, err := s.GetUser(context.Background(), basic.ByID, "id-2"); !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("refused user was stored: %v", err)
	}
	if _, err := s.GetUser(context.Background(), basic.ByEmail, "a2@example.com"); !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("refused user's email was indexed: %v", err)
	}
}

func testDuplicateEmail(t *testing.T, s basic.UserStore) {
	mustCreate(t, s, newUser("id-1", "alice", "shared@example.com"))
	err := s.CreateUser(context.Background(), newUser("id-2", "bob", "SHARED@example.com"))
	if !errors.Is(err, basic.ErrDuplicate) {
		t.Fatalf("CreateUser with the email in upper case: %v, want ErrDuplicate", err)
	}
	if _, err := s.GetUser(context.Background(), basic.ByUsername, "bob"); !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("refused user's username was indexed: %v", err)
	}
}

func testDuplicateID(t *testing.T, s basic.UserStore) {
	mustCreate(t, s, newUser("id-1", "alice", ""))
	if err := s.CreateUser(context.Background(), newUser("id-1", "bob", "")); !errors.Is(err, basic.ErrDuplicate) {
		t.Fatalf("CreateUser with a taken ID: %v, want ErrDuplicate", err)
	}
	if got := mustGet(t, s, basic.ByID, "id-1"); got.Username != "alice" {
		t.Fatalf("first user overwritten: %q", got.Username)
	}
}

func testEmptyEmail(t *testing.T, s basic.UserStore) {
	mustCreate(t, s, newUser("id-1", "alice", ""))
	mustCreate(t, s, newUser("id-2", "bob", ""))
}

func testUpdate(t *testing.T, s basic.UserStore) {
	u := newUser("id-1", "alice", "alice@example.com")
	mustCreate(t, s, u)
	u.Roles = []string{"admin", "engineer"}
	u.Disabled = true
	u.PasswordHash = "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"
	u.UpdatedAt = epoch.Add(time.Hour)
	if err := s.UpdateUser(context.Background(), u); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if u.Version != 2 {
		t.Fatalf("UpdateUser set Version %d, want 2", u.Version)
	}
	sameUser(t, mustGet(t, s, basic.ByID, "id-1"), u)
}

func testStaleUpdate(t *testing.T, s basic.UserStore) {
	u := newUser("id-1", "alice", "")
	mustCreate(t, s, u)
	first, second := u.Clone(), u.Clone()
	first.Roles = []string{"first"}
	second.Roles = []string{"second"}
	if err := s.UpdateUser(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateUser(context.Background(), second); !errors.Is(err, basic.ErrVersionConflict) {
		t.Fatalf("UpdateUser from a stale version: %v, want ErrVersionConflict", err)
	}
	if second.Version != 1 {
		t.Fatalf("refused update changed the caller's Version to %d", second.Version)
	}
	if got := mustGet(t, s, basic.ByID, "id-1"); !slices.Equal(got.Roles, []string{"first"}) || got.Version != 2 {
		t.Fatalf("after the refused update: roles %v version %d", got.Roles, got.Version)
	}
}

func testUpdateMissing(t *testing.T, s basic.UserStore) {
	u := newUser("ghost", "ghost", "")
	u.Version = 1
	if err := s.UpdateUser(context.Background(), u); !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("UpdateUser of a missing user: %v, want ErrNotFound", err)
	}
	if _, err := s.GetUser(context.Background(), basic.ByID, "ghost"); !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("UpdateUser created a user: %v", err)
	}
}

func testRename(t *testing.T, s basic.UserStore) {
	u := newUser("id-1", "alice", "alice@example.com")
	mustCreate(t, s, u)
	u.Username, u.Email = "alicia", "alicia@example.com"
	if err := s.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, basic.ByUsername, "ALICIA"); got.ID != "id-1" {
		t.Fatalf("new username not indexed")
	}
	if got := mustGet(t, s, basic.ByEmail, "alicia@example.com"); got.ID != "id-1" {
		t.Fatalf("new email not indexed")
	}
	for _, q := range []struct {
		f basic.UserField
		v string
	}{{basic.ByUsername, "alice"}, {basic.ByEmail, "alice@example.com"}} {
		if _, err := s.GetUser(context.Background(), q.f, q.v); !errors.Is(err, basic.ErrNotFound) {
			t.Fatalf("old %q still found: %v", q.v, err)
		}
	}
	mustCreate(t, s, newUser("id-2", "Alice", "Alice@example.com"))
	// Changing only the case of one's own username is not a duplicate.
	u.Username = "ALICIA"
	if err := s.UpdateUser(context.Background(), u); err != nil {
		t.Fatalf("UpdateUser changing only the case of the own username: %v", err)
	}
}

func testRenameDuplicate(t *testing.T, s basic.UserStore) {
	mustCreate(t, s, newUser("id-1", "alice", "alice@example.com"))
	b := newUser("id-2", "bob", "bob@example.com")
	mustCreate(t, s, b)
	taken := b.Clone()
	taken.Username = "Alice"
	if err := s.UpdateUser(context.Background(), taken); !errors.Is(err, basic.ErrDuplicate) {
		t.Fatalf("rename onto a taken username: %v, want ErrDuplicate", err)
	}
	taken = b.Clone()
	taken.Email = "ALICE@example.com"
	if err := s.UpdateUser(context.Background(), taken); !errors.Is(err, basic.ErrDuplicate) {
		t.Fatalf("change onto a taken email: %v, want ErrDuplicate", err)
	}
	if got := mustGet(t, s, basic.ByUsername, "bob"); got.Version != 1 || got.Email != "bob@example.com" {
		t.Fatalf("refused updates changed the user: %+v", got)
	}
}

func testDelete(t *testing.T, s basic.UserStore) {
	mustCreate(t, s, newUser("id-1", "alice", "alice@example.com"))
	if err := s.DeleteUser(context.Background(), "id-1"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		f basic.UserField
		v string
	}{{basic.ByID, "id-1"}, {basic.ByUsername, "alice"}, {basic.ByEmail, "alice@example.com"}} {
		if _, err := s.GetUser(context.Background(), q.f, q.v); !errors.Is(err, basic.ErrNotFound) {
			t.Fatalf("deleted user found by %q: %v", q.v, err)
		}
	}
	mustCreate(t, s, newUser("id-2", "ALICE", "ALICE@example.com"))
}

func testDeleteMissing(t *testing.T, s basic.UserStore) {
	if err := s.DeleteUser(context.Background(), "never-existed"); err != nil {
		t.Fatalf("DeleteUser of a missing user: %v", err)
	}
	mustCreate(t, s, newUser("id-1", "alice", ""))
	for range 2 {
		if err := s.DeleteUser(context.Background(), "id-1"); err != nil {
			t.Fatalf("DeleteUser twice: %v", err)
		}
	}
}

func testList(t *testing.T, s basic.UserStore) {
	const n = 25
	want := make([]string, n)
	for i := range n {
		// Created out of ID order.
		id := fmt.Sprintf("id-%02d", (i*7)%n)
		want[i] = id
		mustCreate(t, s, newUser(id, "user"+id, ""))
	}
	slices.Sort(want)
	var got []string
	after, pages := "", 0
	for {
		users, next, err := s.ListUsers(context.Background(), after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) > 10 {
			t.Fatalf("page of %d users with limit 10", len(users))
		}
		for _, u := range users {
			got = append(got, u.ID)
		}
		pages++
		if next == "" {
			break
		}
		if pages > n {
			t.Fatal("paging does not end")
		}
		after = next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged IDs:\n got %v\nwant %v", got, want)
	}
	users, _, err := s.ListUsers(context.Background(), "", 0)
	if err != nil || len(users) != n {
		t.Fatalf("ListUsers with limit 0 (default page size) = %d users, %v; want %d", len(users), err, n)
	}
	users, next, err := s.ListUsers(context.Background(), want[n-1], 10)
	if err != nil || len(users) != 0 || next != "" {
		t.Fatalf("ListUsers after the last ID = %d users, next %q, %v", len(users), next, err)
	}
}

func testListEmpty(t *testing.T, s basic.UserStore) {
	users, next, err := s.ListUsers(context.Background(), "", 10)
	if err != nil || len(users) != 0 || next != "" {
		t.Fatalf("ListUsers on an empty store = %v, %q, %v", users, next, err)
	}
}

func testCopies(t *testing.T, s basic.UserStore) {
	u := newUser("id-1", "alice", "")
	mustCreate(t, s, u)
	u.Roles[0] = "mutated-after-create"
	u.PasswordHistory[0] = "mutated"
	got := mustGet(t, s, basic.ByID, "id-1")
	if got.Roles[0] != "operator" || got.PasswordHistory[0] == "mutated" {
		t.Fatalf("store shares slices with the created user: %v %v", got.Roles, got.PasswordHistory)
	}
	got.Roles[0] = "mutated-after-get"
	if again := mustGet(t, s, basic.ByID, "id-1"); again.Roles[0] != "operator" {
		t.Fatalf("store shares slices with a returned user: %v", again.Roles)
	}
	upd := again(t, s)
	upd.Roles = []string{"x"}
	if err := s.UpdateUser(context.Background(), upd); err != nil {
		t.Fatal(err)
	}
	upd.Roles[0] = "mutated-after-update"
	if g := mustGet(t, s, basic.ByID, "id-1"); g.Roles[0] != "x" {
		t.Fatalf("store shares slices with the updated user: %v", g.Roles)
	}
	page, _, err := s.ListUsers(context.Background(), "", 10)
	if err != nil || len(page) != 1 {
		t.Fatalf("ListUsers: %v %v", page, err)
	}
	page[0].Roles[0] = "mutated-after-list"
	if g := mustGet(t, s, basic.ByID, "id-1"); g.Roles[0] != "x" {
		t.Fatalf("store shares slices with a listed user: %v", g.Roles)
	}
}

func again(t *testing.T, s basic.UserStore) *basic.User {
	t.Helper()
	return mustGet(t, s, basic.ByID, "id-1")
}

const racers = 20

func testConcurrentUpdates(t *testing.T, s basic.UserStore) {
	mustCreate(t, s, newUser("id-1", "alice", ""))
	base := mustGet(t, s, basic.ByID, "id-1")
	var wg sync.WaitGroup
	var mu sync.Mutex // guards wins, conflicts, others
	wins, conflicts, others := 0, 0, []error(nil)
	winner := ""
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := base.Clone()
			u.Roles = []string{fmt.Sprintf("role-%d", i)}
			err := s.UpdateUser(context.Background(), u)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				winner = u.Roles[0]
			case errors.Is(err, basic.ErrVersionConflict):
				conflicts++
			default:
				others = append(others, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != racers-1 || len(others) > 0 {
		t.Fatalf("%d concurrent updates from one version: %d won, %d conflicts, other errors %v",
			racers, wins, conflicts, others)
	}
	got := mustGet(t, s, basic.ByID, "id-1")
	if got.Version != 2 || !slices.Equal(got.Roles, []string{winner}) {
		t.Fatalf("stored %v version %d, want the winner's %q at version 2", got.Roles, got.Version, winner)
	}
}

func testConcurrentCreates(t *testing.T, s basic.UserStore) {
	names := []string{"racer", "RACER", "Racer", "rAcEr"}
	var wg sync.WaitGroup
	var mu sync.Mutex // guards wins, dups, others
	wins, dups, others := 0, 0, []error(nil)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := newUser(fmt.Sprintf("id-%02d", i), names[i%len(names)], fmt.Sprintf("r%d@example.com", i))
			err := s.CreateUser(context.Background(), u)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, basic.ErrDuplicate):
				dups++
			default:
				others = append(others, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || dups != racers-1 || len(others) > 0 {
		t.Fatalf("%d concurrent creates of one username: %d won, %d duplicates, other errors %v",
			racers, wins, dups, others)
	}
	users, _, err := s.ListUsers(context.Background(), "", 100)
	if err != nil || len(users) != 1 {
		t.Fatalf("after the race the store holds %d users (%v), want 1", len(users), err)
	}
}

func testConcurrentCreatesEmail(t *testing.T, s basic.UserStore) {
	var wg sync.WaitGroup
	var mu sync.Mutex // guards wins
	wins := 0
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := newUser(fmt.Sprintf("id-%02d", i), fmt.Sprintf("user%02d", i), "Same@Example.com")
			if i%2 == 1 {
				u.Email = "same@example.COM"
			}
			err := s.CreateUser(context.Background(), u)
			if err != nil && !errors.Is(err, basic.ErrDuplicate) {
				t.Errorf("CreateUser: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent creates with one email: %d won, want 1", racers, wins)
	}
}

// RunResetTokens tests a [basic.ResetTokenStore]: save, get, consume once,
// expiry at the boundary, per-user deletion, and concurrent consumption of
// one token (exactly one consumer wins).
func RunResetTokens(t *testing.T, newStore func(t *testing.T) basic.ResetTokenStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s basic.ResetTokenStore)
	}{
		{"SaveGetConsume", testTokenRoundTrip},
		{"ConsumeTwiceIsNotFound", testTokenConsumeTwice},
		{"ExpiredAtTheInstantOfExpiry", testTokenExpiry},
		{"UnknownHashIsNotFound", testTokenUnknown},
		{"DeleteResetTokensOfOneUser", testTokenDeleteUser},
		{"DeleteResetTokensOfNobody", testTokenDeleteNobody},
		{"SaveReplacesSameHash", testTokenReplace},
		{"ConcurrentConsumersOneWins", testTokenConcurrentConsume},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func token(hash, user string, ttl time.Duration) basic.ResetToken {
	return basic.ResetToken{Hash: hash, UserID: user, Stamp: "stamp-" + user, CreatedAt: epoch, ExpiresAt: epoch.Add(ttl)}
}

func mustSave(t *testing.T, s basic.ResetTokenStore, tok basic.ResetToken) {
	t.Helper()
	if err := s.SaveResetToken(context.Background(), tok); err != nil {
		t.Fatalf("SaveResetToken: %v", err)
	}
}

func sameToken(t *testing.T, got, want basic.ResetToken) {
	t.Helper()
	if got.Hash != want.Hash || got.UserID != want.UserID || got.Stamp != want.Stamp ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("token differs:\n got %+v\nwant %+v", got, want)
	}
}

func testTokenRoundTrip(t *testing.T, s basic.ResetTokenStore) {
	tok := token("h1", "u1", 30*time.Minute)
	mustSave(t, s, tok)
	now := epoch.Add(time.Minute)
	for range 2 {
		got, err := s.GetResetToken(context.Background(), "h1", now)
		if err != nil {
			t.Fatalf("GetResetToken: %v", err)
		}
		sameToken(t, got, tok)
	}
	got, err := s.ConsumeResetToken(context.Background(), "h1", now)
	if err != nil {
		t.Fatalf("ConsumeResetToken: %v", err)
	}
	sameToken(t, got, tok)
	if _, err := s.GetResetToken(context.Background(), "h1", now); !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("GetResetToken after consumption: %v, want ErrNotFound", err)
	}
}

func testTokenConsumeTwice(t *testing.T, s basic.ResetTokenStore) {
	mustSave(t, s, token("h1", "u1", time.Hour))
	if _, err := s.ConsumeResetToken(context.Background(), "h1", epoch); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeResetToken(context.Background(), "h1", epoch); !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("second ConsumeResetToken: %v, want ErrNotFound", err)
	}
}

func testTokenExpiry(t *testing.T, s basic.ResetTokenStore) {
	mustSave(t, s, token("h1", "u1", 30*time.Minute))
	mustSave(t, s, token("h2", "u2", 30*time.Minute))
	last := epoch.Add(30*time.Minute - time.Nanosecond)
	if _, err := s.GetResetToken(context.Background(), "h1", last); err != nil {
		t.Fatalf("GetResetToken one nanosecond before expiry: %v", err)
	}
	at := epoch.Add(30 * time.Minute)
	if _, err := s.GetResetToken(context.Background(), "h1", at); !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("GetResetToken at expiry: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeResetToken(context.Background(), "h1", at); !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("ConsumeResetToken at expiry: %v, want ErrNotFound", err)
	}
	// Once seen expired, a token stays dead even for an earlier clock.
	if _, err := s.ConsumeResetToken(context.Background(), "h1", last); !errors.Is(err, basic.ErrNotFound) {
		t.Fatalf("ConsumeResetToken after an expired consumption: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeResetToken(context.Background(), "h2", last); err != nil {
		t.Fatalf("ConsumeResetToken of another token before expiry: %v", err)
	}
}

func testTokenUnknown(t *testing.T, s basic.ResetTokenStore) {
	for _, h := range []string{"", "nope"} {
		if _, err := s.GetResetToken(context.Background(), h, epoch); !errors.Is(err, basic.ErrNotFound) {
			t.Fatalf("GetResetToken(%q): %v", h, err)
		}
		if _, err := s.ConsumeResetToken(context.Background(), h, epoch); !errors.Is(err, basic.ErrNotFound) {
			t.Fatalf("ConsumeResetToken(%q): %v", h, err)
		}
	}
}

func testTokenDeleteUser(t *testing.T, s basic.ResetTokenStore) {
	mustSave(t, s, token("a1", "alice", time.Hour))
	mustSave(t, s, token("a2", "alice", time.Hour))
	mustSave(t, s, token("b1", "bob", time.Hour))
	if err := s.DeleteResetTokens(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"a1", "a2"} {
		if _, err := s.ConsumeResetToken(context.Background(), h, epoch); !errors.Is(err, basic.ErrNotFound) {
			t.Fatalf("token %s of the deleted user: %v", h, err)
		}
	}
	if _, err := s.ConsumeResetToken(context.Background(), "b1", epoch); err != nil {
		t.Fatalf("other user's token: %v", err)
	}
}

func testTokenDeleteNobody(t *testing.T, s basic.ResetTokenStore) {
	if err := s.DeleteResetTokens(context.Background(), "nobody"); err != nil {
		t.Fatalf("DeleteResetTokens for a user without tokens: %v", err)
	}
}

func testTokenReplace(t *testing.T, s basic.ResetTokenStore) {
	mustSave(t, s, token("h1", "u1", time.Minute))
	second := token("h1", "u1", time.Hour)
	second.Stamp = "newer"
	mustSave(t, s, second)
	got, err := s.ConsumeResetToken(context.Background(), "h1", epoch.Add(2*time.Minute))
	if err != nil {
		t.Fatalf("replaced token: %v", err)
	}
	sameToken(t, got, second)
}

func testTokenConcurrentConsume(t *testing.T, s basic.ResetTokenStore) {
	mustSave(t, s, token("h1", "u1", time.Hour))
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex // guards wins
	wins := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.ConsumeResetToken(context.Background(), "h1", epoch)
			if err != nil && !errors.Is(err, basic.ErrNotFound) {
				t.Errorf("ConsumeResetToken: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent consumers of one token: %d won, want 1", n, wins)
	}
}
