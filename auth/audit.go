package auth

import (
	"context"
	"log/slog"
	"sort"
	"strings"
)

// sensitiveNames are substrings of attribute names whose values are masked.
var sensitiveNames = []string{
	"password", "passwd", "secret", "token", "api_key", "apikey", "key_value",
	"code", "authorization", "cookie", "otp", "credential", "verifier", "private",
}

// IsSensitiveName reports whether an attribute named name holds a secret and
// must be masked: its lower-cased form contains password, secret, token,
// api_key, code, authorization, cookie, otp, credential, verifier or private.
func IsSensitiveName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range sensitiveNames {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// Mask returns a masked form of a secret: values of 16 characters or more keep
// their first 4 bytes (for example an API key prefix or "eyJh") followed by an
// ellipsis; shorter values are fully replaced.
func Mask(secret string) string {
	if len(secret) < 16 {
		return "[redacted]"
	}
	return secret[:4] + "…"
}

// AuditHandler returns an [EventHandler] that writes each event to logger at
// level Info (Warn for failures, denials, locks and reuse) with the message
// "auth event". Attributes whose names look sensitive ([IsSensitiveName]) are
// masked with [Mask]. A nil logger uses slog.Default().
func AuditHandler(logger *slog.Logger) EventHandler {
	return func(ctx context.Context, e Event) error {
		l := logger
		if l == nil {
			l = slog.Default()
		}
		attrs := []slog.Attr{
			slog.String("event", string(e.Type)),
			slog.Time("time", e.Time),
		}
		add := func(k, v string) {
			if v != "" {
				attrs = append(attrs, slog.String(k, v))
			}
		}
		add("subject", e.Subject)
		add("username", e.Username)
		add("method", string(e.Method))
		add("client_ip", e.ClientIP)
		add("user_agent", e.UserAgent)
		add("request_id", e.RequestID)
		add("reason", e.Reason)
		if len(e.Attrs) > 0 {
			keys := make([]string, 0, len(e.Attrs))
			for k := range e.Attrs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			group := make([]any, 0, len(keys))
			for _, k := range keys {
				v := e.Attrs[k]
				if IsSensitiveName(k) {
					v = Mask(v)
				}
				group = append(group, slog.String(k, v))
			}
			attrs = append(attrs, slog.Group("attrs", group...))
		}
		l.LogAttrs(ctx, levelFor(e.Type), "auth event", attrs...)
		return nil
	}
}

func levelFor(t EventType) slog.Level {
	switch t {
	case EventLoginFailed, EventRefreshReuseDetected, EventAPIKeyRejected, EventMFAFailed,
		EventAccountLocked, EventPermissionDenied, EventRateLimited:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
