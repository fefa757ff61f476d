package authclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// SessionService lists and revokes the caller's sessions (the /sessions
// routes). Get it from [Client.Sessions]; it is safe for concurrent use.
type SessionService struct{ c *Client }

// Session is one of the caller's server-side sessions. It never holds the
// session's secret.
type Session struct {
	// ID identifies the session in DELETE /sessions/{id}.
	ID string `json:"id"`
	// CreatedAt, LastSeenAt and ExpiresAt are when the session began, was
	// last used and ends.
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	// ClientIP and UserAgent describe the client that created it.
	ClientIP  string `json:"client_ip"`
	UserAgent string `json:"user_agent"`
	// Current reports whether this is the session of the request.
	Current bool `json:"current"`
}

// List returns the caller's sessions (GET /sessions). The server may answer
// a JSON array or an object with a "sessions" array.
func (s *SessionService) List(ctx context.Context) ([]Session, error) {
	var raw json.RawMessage
	if err := s.c.call(ctx, http.MethodGet, "/sessions", nil, &raw); err != nil {
		return nil, err
	}
	list, err := decodeList[Session](raw, "sessions")
	if err != nil {
		return nil, fmt.Errorf("authclient: GET /sessions: decoding the response: %w", err)
	}
	return list, nil
}

// Revoke ends the session with the given ID (DELETE /sessions/{id}).
func (s *SessionService) Revoke(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	return s.c.call(ctx, http.MethodDelete, "/sessions/"+id, nil, nil)
}
