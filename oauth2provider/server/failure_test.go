package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
)

var errDown = errors.New("database is down")

// flakyStore is a MemoryStore whose methods fail while down is set.
type flakyStore struct {
	*server.MemoryStore
	down atomic.Bool
}

func (s *flakyStore) GetClient(ctx context.Context, id string) (server.Client, error) {
	if s.down.Load() {
		return server.Client{}, errDown
	}
	return s.MemoryStore.GetClient(ctx, id)
}

func (s *flakyStore) FindGrant(ctx context.Context, h string) (server.Grant, error) {
	if s.down.Load() {
		return server.Grant{}, errDown
	}
	return s.MemoryStore.FindGrant(ctx, h)
}

func (s *flakyStore) CreateGrant(ctx context.Context, g server.Grant) error {
	if s.down.Load() {
		return errDown
	}
	return s.MemoryStore.CreateGrant(ctx, g)
}

// TestStoreFailureIsNotBadCredentials: a store failure is 503, never
// invalid_client or invalid_grant (DESIGN §2), and its text never reaches
// the client.
func TestStoreFailureIsNotBadCredentials(t *testing.T) {
	fs := &flakyStore{MemoryStore: server.NewMemoryStore()}
	e := newEnv(t, func(c *server.Config) { c.Clients, c.Grants = fs, fs })
	tr := e.login("predictions:read")
	fs.down.Store(true)

	w := e.post("/token", url.Values{"grant_type": {"client_credentials"}}, svcID, e.svcSecret)
	got := decodeToken(t, w)
	wantError(t, got, http.StatusServiceUnavailable, server.CodeTemporarilyUnavailable)
	if got.ErrorDescription == errDown.Error() {
		t.Fatalf("internal error text leaked")
	}
	w = e.get("/authorize", authorizeQuery(confID, confRedirect))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Location") != "" {
		t.Fatalf("authorize with the store down: %d %q", w.Code, w.Header().Get("Location"))
	}
	fs.down.Store(false)
	code := e.code(authorizeQuery(confID, confRedirect))
	fs.down.Store(true)
	wantError(t, e.redeem(code), http.StatusServiceUnavailable, server.CodeTemporarilyUnavailable)
	wantError(t, e.token(refreshForm(tr.RefreshToken, ""), confID, e.confSecret), http.StatusServiceUnavailable, server.CodeTemporarilyUnavailable)
	fs.down.Store(false)
	if tr := e.redeem(code); tr.Status != http.StatusOK {
		t.Fatalf("the code did not survive the outage: %d %s", tr.Status, tr.Error)
	}

	t.Run("grant creation failure is redirected as temporarily_unavailable", func(t *testing.T) {
		e.setApprove(func(http.ResponseWriter, *http.Request, server.AuthorizeRequest) (*auth.Principal, bool) {
			fs.down.Store(true)
			return alice(), true
		})
		defer fs.down.Store(false)
		u := location(t, e.get("/authorize", authorizeQuery(confID, confRedirect)))
		if u.Query().Get("error") != server.CodeTemporarilyUnavailable || u.Query().Get("code") != "" {
			t.Fatalf("redirect %s", u)
		}
	})
}

// TestEvents: issue, refresh, reuse and revoke are reported with the
// client ID and the OAuth method, and carry no secret.
func TestEvents(t *testing.T) {
	e := newEnv(t)
	tr := e.login("predictions:read")
	e.token(url.Values{"grant_type": {"client_credentials"}}, svcID, e.svcSecret)
	issued := e.events.of(auth.EventTokenIssued)
	if len(issued) != 2 {
		t.Fatalf("token_issued events %+v", issued)
	}
	if ev := issued[0]; ev.Method != auth.MethodOAuth2 || ev.Subject != "user-alice" || ev.Attrs["client_id"] != confID ||
		ev.Attrs["grant_type"] != "authorization_code" || !ev.Time.Equal(e.clock.Now()) {
		t.Fatalf("code token_issued %+v", ev)
	}
	if ev := issued[1]; ev.Subject != svcID || ev.Attrs["grant_type"] != "client_credentials" {
		t.Fatalf("client credentials token_issued %+v", ev)
	}
	e.clock.Advance(time.Minute)
	e.token(refreshForm(tr.RefreshToken, ""), confID, e.confSecret)
	e.token(refreshForm(tr.RefreshToken, ""), confID, e.confSecret)
	for _, typ := range []auth.EventType{auth.EventTokenRefreshed, auth.EventRefreshReuseDetected} {
		if len(e.events.of(typ)) != 1 {
			t.Fatalf("%s events: %+v", typ, e.events.of(typ))
		}
	}
	e.events.mu.Lock()
	defer e.events.mu.Unlock()
	for _, ev := range e.events.events {
		for k, v := range ev.Attrs {
			if v == tr.RefreshToken || v == tr.AccessToken || v == e.confSecret {
				t.Fatalf("event %s carries a secret in %s", ev.Type, k)
			}
		}
	}
}
