package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// An audit log of authentication events in which secrets are masked.
func ExampleAuditHandler() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "time" {
				return slog.Attr{} // keep the example output stable
			}
			return a
		},
	}))
	events := auth.NewDispatcher(auth.DispatcherConfig{})
	events.On(auth.EventLoginFailed, auth.AuditHandler(logger))

	events.Emit(auth.Event{
		Type:     auth.EventLoginFailed,
		Time:     time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC),
		Username: "operator_001",
		Method:   auth.MethodBasic,
		ClientIP: "192.0.2.10",
		Reason:   "bad_password",
		Attrs:    map[string]string{"password": "hunter2hunter2", "api_key": "gk_4f9XbQ2mLk8sTz1wVh7eRy3pUc6nDj0aG5iO"},
	})
	_ = events.Close(context.Background())
	// Output:
	// level=WARN msg="auth event" event=login_failure username=operator_001 method=basic client_ip=192.0.2.10 reason=bad_password attrs.api_key=gk_4… attrs.password=[redacted]
}

// Errors carry a client-safe code; errors.Is compares codes.
func ExampleError() {
	err := fmt.Errorf("verify access token: %w",
		auth.WrapError(auth.CodeTokenExpired, "", errors.New("exp 2026-11-22T08:00:00Z")))

	ae := auth.AsError(err)
	fmt.Println(errors.Is(err, auth.ErrTokenExpired), ae.Status(), ae.Code, "-", ae.ClientDescription())

	storeDown := errors.New("redis: connection refused")
	fmt.Println(auth.AsError(storeDown).Status(), auth.AsError(storeDown).Code)
	// Output:
	// true 401 token_expired - the token has expired
	// 503 unavailable
}
