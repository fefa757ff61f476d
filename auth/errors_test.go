package auth_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
)

func TestErrorIsMatchesByCode(t *testing.T) {
	err := fmt.Errorf("verify: %w", auth.WrapError(auth.CodeTokenExpired, "", errors.New("exp 12:00")))
	if !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatal("wrapped token_expired does not match ErrTokenExpired")
	}
	if errors.Is(err, auth.ErrInvalidToken) {
		t.Fatal("token_expired matches ErrInvalidToken")
	}
	if got := auth.AsError(err); got.Code != auth.CodeTokenExpired || got.ClientDescription() != "the token has expired" {
		t.Fatalf("AsError = %+v", got)
	}
}

func TestAsErrorClassifiesStoreFailures(t *testing.T) {
	storeDown := fmt.Errorf("sessions: %w", errors.New("dial tcp 10.0.0.5:6379: connection refused"))
	got := auth.AsError(storeDown)
	if got.Code != auth.CodeUnavailable || got.Status() != 503 {
		t.Fatalf("store failure classified as %s/%d", got.Code, got.Status())
	}
	if got.ClientDescription() == storeDown.Error() {
		t.Fatal("internal error text used as client description")
	}
	if nc := auth.AsError(auth.ErrNoCredentials); nc.Code != auth.CodeInvalidCredentials || nc.Status() != 401 {
		t.Fatalf("no credentials classified as %s", nc.Code)
	}
	if auth.AsError(nil) != nil {
		t.Fatal("AsError(nil) != nil")
	}
}

func TestCodeStatuses(t *testing.T) {
	want := map[auth.Code]int{
		auth.CodeInvalidRequest: 400, auth.CodeInvalidCredentials: 401, auth.CodeInvalidToken: 401,
		auth.CodeTokenExpired: 401, auth.CodeTokenRevoked: 401, auth.CodeMFARequired: 401,
		auth.CodeInsufficientPermissions: 403, auth.CodeAccountLocked: 429, auth.CodeRateLimited: 429,
		auth.CodePasswordPolicy: 422, auth.CodeNotFound: 404, auth.CodeConflict: 409, auth.CodeUnavailable: 503,
	}
	if len(want) != len(auth.Codes) {
		t.Fatalf("%d codes listed, %d expected", len(auth.Codes), len(want))
	}
	for _, c := range auth.Codes {
		if got := c.Status(); got != want[c] {
			t.Errorf("%s.Status() = %d, want %d", c, got, want[c])
		}
	}
	if auth.Code("made_up").Status() != 500 {
		t.Error("unknown code not 500")
	}
}
