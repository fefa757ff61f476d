package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// ClientStore keeps client registrations. Implementations must be safe for
// concurrent use and honour ctx.
type ClientStore interface {
	// GetClient returns the client id, or ErrNotFound.
	GetClient(ctx context.Context, id string) (Client, error)
	// PutClient creates or replaces the client c.ID.
	PutClient(ctx context.Context, c Client) error
	// DeleteClient removes the client id; deleting a missing client is not
	// an error. Grants already issued to it stay until revoked or expired,
	// but every token request of the client fails from then on.
	DeleteClient(ctx context.Context, id string) error
}

// GrantStore keeps grants: what a user authorized a client to do, with the
// hash of its authorization code, the hash of its current refresh token and
// the IDs of the access tokens issued from it. It never sees a code or a
// token, only their SHA-256 hashes.
//
// Implementations must be safe for concurrent use and honour ctx. Every
// method is one atomic operation; RedeemCode and RotateRefresh in
// particular must be single conditional writes (a transaction, a
// compare-and-set, a Lua script), so that of concurrent calls with one code
// or one refresh token exactly one succeeds.
//
// Time comes from the now arguments, never from the store's clock. A store
// may forget a grant once its ExpiresAt has passed (a Redis TTL, a sweep).
//
// The conformance suite in package servertest checks these semantics.
type GrantStore interface {
	// CreateGrant stores a new grant, indexed by its ID and CodeHash. It
	// fails with ErrExists if either is taken, storing nothing.
	CreateGrant(ctx context.Context, g Grant) error
	// FindGrant returns the grant whose CodeHash, or whose current
	// RefreshHash, is tokenHash: revoked, redeemed and expired grants
	// included (the caller checks). Hashes of refresh tokens that were
	// rotated away are not found (ErrNotFound).
	FindGrant(ctx context.Context, tokenHash string) (Grant, error)
	// RedeemCode redeems the code whose hash is codeHash: it marks the
	// grant redeemed, makes next.RefreshHash (if not empty) its current
	// refresh token and records next.Access, returning the updated grant.
	// It fails with:
	//   - ErrNotFound if no grant has that code hash, or now is not before
	//     the grant's ExpiresAt, or (code not yet redeemed) not before its
	//     CodeExpiresAt;
	//   - ErrCodeReused if the code was already redeemed: the grant is
	//     revoked in the same operation and returned with the error, so that
	//     the caller revokes its access tokens (RFC 6749 §4.1.2);
	//   - ErrRevoked if the grant was revoked before its code was redeemed.
	RedeemCode(ctx context.Context, codeHash string, next TokenSet, now time.Time) (Grant, error)
	// RotateRefresh consumes the refresh token whose hash is refreshHash:
	// next.RefreshHash becomes the grant's current refresh token and
	// next.Access is recorded (access tokens expired at now may be dropped).
	// The store must remember every refresh hash it ever made current for a
	// grant, until the grant expires, so that it can tell reuse from
	// forgery. It fails with:
	//   - ErrNotFound if refreshHash was never a refresh token of a stored
	//     grant, or now is not before the grant's ExpiresAt;
	//   - ErrReused if refreshHash was a refresh token of the grant but is no
	//     longer the current one: the grant is revoked in the same operation
	//     and returned with the error (RFC 9700 §4.14.2). Reuse is reported
	//     even when the grant was already revoked;
	//   - ErrRevoked if refreshHash is current but the grant is revoked.
	RotateRefresh(ctx context.Context, refreshHash string, next TokenSet, now time.Time) (Grant, error)
	// RevokeGrant revokes grant id: its code can no longer be redeemed and
	// its refresh token no longer rotated. It returns the access tokens
	// recorded for the grant so that the caller revokes them. Revoking a
	// missing or revoked grant is not an error.
	RevokeGrant(ctx context.Context, id string) ([]AccessTokenRef, error)
}

// Store is a ClientStore and a GrantStore, as [MemoryStore] and the
// database adapters implement them.
type Store interface {
	ClientStore
	GrantStore
}

// Grant is one authorization of a client by a user, from the approved
// authorization request to the end of its refresh tokens. It is a plain
// value; stores hand out copies.
type Grant struct {
	// ID identifies the grant (random, 128 bits).
	ID string
	// ClientID is the client the grant was issued to.
	ClientID string

	// Subject is the user's ID ("sub").
	Subject string
	// Username, Email, Roles and MFA are the user's, as the authorization
	// hook reported them; access tokens carry them (unless
	// Config.ReloadSubject supplies fresh ones at each refresh).
	Username string
	Email    string
	Roles    []string
	MFA      auth.MFAState
	// AuthTime is when the user authenticated ("auth_time" of ID tokens).
	AuthTime time.Time
	// Scopes are the granted scopes, never nil.
	Scopes []string

	// RedirectURI is the redirect_uri of the authorization request, which
	// the token request must repeat.
	RedirectURI string
	// CodeChallenge and CodeChallengeMethod are the PKCE challenge (RFC
	// 7636); empty when the request had none.
	CodeChallenge       string
	CodeChallengeMethod string
	// Nonce is the OpenID Connect nonce, put into ID tokens.
	Nonce string

	// CodeHash is the SHA-256 (hex) of the authorization code.
	CodeHash string
	// CodeExpiresAt is the end of the code's life.
	CodeExpiresAt time.Time
	// Redeemed is set once the code was redeemed.
	Redeemed bool
	// RefreshHash is the SHA-256 (hex) of the current refresh token, empty
	// when the grant has none.
	RefreshHash string
	// AccessTokens are the access tokens issued from the grant that may not
	// have expired yet.
	AccessTokens []AccessTokenRef

	// CreatedAt is when the user approved the request.
	CreatedAt time.Time
	// ExpiresAt is the absolute end of the grant: no code redemption and no
	// refresh at or after it.
	ExpiresAt time.Time
	// Revoked is set when the grant was revoked (RFC 7009, code replay,
	// refresh token reuse).
	Revoked bool
}

// clone returns a deep copy of g.
func (g Grant) clone() Grant {
	g.Roles = slices.Clone(g.Roles)
	g.MFA.Methods = slices.Clone(g.MFA.Methods)
	g.Scopes = slices.Clone(g.Scopes)
	g.AccessTokens = slices.Clone(g.AccessTokens)
	return g
}

// AccessTokenRef names an access token issued from a grant: its "jti" and
// expiry, enough to revoke it. It is a plain value.
type AccessTokenRef struct {
	ID        string
	ExpiresAt time.Time
}

// TokenSet is what a code redemption or a refresh issues: the hash of the
// next refresh token (empty for none) and the access token. It is a plain
// value.
type TokenSet struct {
	RefreshHash string
	Access      AccessTokenRef
}

var _ Store = (*MemoryStore)(nil)

// DefaultMemoryGrantLimit is the number of live grants a MemoryStore holds
// at most; beyond it CreateGrant fails with ErrStoreFull.
const DefaultMemoryGrantLimit = 100_000

// MemoryStore is the in-memory Store. It is safe for concurrent use. Expired
// grants are swept as new ones are created. It serves one process only:
// several instances need a shared store.
type MemoryStore struct {
	// mu guards every field below.
	mu      sync.Mutex
	clients map[string]Client
	grants  map[string]*memGrant
	// index maps code and refresh hashes to their grant.
	index     map[string]indexEntry
	sweepAt   int
	limit     int
	latestNow time.Time
}

type memGrant struct {
	g Grant
	// hashes are every index key of the grant, dropped with it.
	hashes []string
}

type indexEntry struct {
	grantID string
	refresh bool
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		clients: make(map[string]Client),
		grants:  make(map[string]*memGrant),
		index:   make(map[string]indexEntry),
		sweepAt: 1024,
		limit:   DefaultMemoryGrantLimit,
	}
}

// GetClient implements ClientStore.GetClient.
func (s *MemoryStore) GetClient(ctx context.Context, id string) (Client, error) {
	if err := ctx.Err(); err != nil {
		return Client{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return Client{}, ErrNotFound
	}
	return c.clone(), nil
}

// PutClient implements ClientStore.PutClient.
func (s *MemoryStore) PutClient(ctx context.Context, c Client) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = c.clone()
	return nil
}

// DeleteClient implements ClientStore.DeleteClient.
func (s *MemoryStore) DeleteClient(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, id)
	return nil
}

// CreateGrant implements GrantStore.CreateGrant.
func (s *MemoryStore) CreateGrant(ctx context.Context, g Grant) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.grants[g.ID]; ok {
		return ErrExists
	}
	if _, ok := s.index[g.CodeHash]; ok {
		return ErrExists
	}
	if g.RefreshHash != "" {
		if _, ok := s.index[g.RefreshHash]; ok {
			return ErrExists
		}
	}
	if g.CreatedAt.After(s.latestNow) {
		s.latestNow = g.CreatedAt
	}
	if len(s.grants) >= s.sweepAt {
		s.sweep(s.latestNow)
	}
	if len(s.grants) >= s.limit {
		return fmt.Errorf("%w: %d live grants", ErrStoreFull, len(s.grants))
	}
	mg := &memGrant{g: g.clone()}
	s.grants[g.ID] = mg
	s.addIndex(mg, g.CodeHash, false)
	if g.RefreshHash != "" {
		s.addIndex(mg, g.RefreshHash, true)
	}
	return nil
}

func (s *MemoryStore) addIndex(mg *memGrant, hash string, refresh bool) {
	s.index[hash] = indexEntry{grantID: mg.g.ID, refresh: refresh}
	mg.hashes = append(mg.hashes, hash)
}

// sweep drops the grants expired at now. The caller holds mu.
func (s *MemoryStore) sweep(now time.Time) {
	for id, mg := range s.grants {
		if !now.Before(mg.g.ExpiresAt) {
			for _, h := range mg.hashes {
				delete(s.index, h)
			}
			delete(s.grants, id)
		}
	}
	s.sweepAt = max(1024, 2*len(s.grants))
}

// lookup returns the grant indexed under hash. The caller holds mu.
func (s *MemoryStore) lookup(hash string) (*memGrant, indexEntry, bool) {
	e, ok := s.index[hash]
	if !ok {
		return nil, e, false
	}
	mg, ok := s.grants[e.grantID]
	return mg, e, ok
}

// FindGrant implements GrantStore.FindGrant.
func (s *MemoryStore) FindGrant(ctx context.Context, tokenHash string) (Grant, error) {
	if err := ctx.Err(); err != nil {
		return Grant{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mg, e, ok := s.lookup(tokenHash)
	if !ok || e.refresh && mg.g.RefreshHash != tokenHash {
		return Grant{}, ErrNotFound
	}
	return mg.g.clone(), nil
}

// RedeemCode implements GrantStore.RedeemCode.
func (s *MemoryStore) RedeemCode(ctx context.Context, codeHash string, next TokenSet, now time.Time) (Grant, error) {
	if err := ctx.Err(); err != nil {
		return Grant{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mg, e, ok := s.lookup(codeHash)
	if !ok || e.refresh {
		return Grant{}, ErrNotFound
	}
	g := &mg.g
	if err := g.CheckRedeem(now); err != nil {
		return Outcome(g.clone(), err)
	}
	if next.RefreshHash != "" {
		if _, taken := s.index[next.RefreshHash]; taken {
			return Grant{}, ErrExists
		}
		s.addIndex(mg, next.RefreshHash, true)
	}
	g.Redeemed = true
	g.Advance(next, now)
	return g.clone(), nil
}

// RotateRefresh implements GrantStore.RotateRefresh.
func (s *MemoryStore) RotateRefresh(ctx context.Context, refreshHash string, next TokenSet, now time.Time) (Grant, error) {
	if err := ctx.Err(); err != nil {
		return Grant{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mg, e, ok := s.lookup(refreshHash)
	if !ok || !e.refresh {
		return Grant{}, ErrNotFound
	}
	g := &mg.g
	if err := g.CheckRotate(refreshHash, next, now); err != nil {
		return Outcome(g.clone(), err)
	}
	if _, taken := s.index[next.RefreshHash]; taken {
		return Grant{}, ErrExists
	}
	s.addIndex(mg, next.RefreshHash, true)
	g.Advance(next, now)
	return g.clone(), nil
}

// The steps below are the semantics of RedeemCode and RotateRefresh on a
// grant value, shared by MemoryStore and the database adapters. A store
// reads the grant and holds it exclusively (a mutex, a row lock, a write
// transaction), calls CheckRedeem or CheckRotate, and on a replay stores
// the revocation those set; otherwise it makes sure next.RefreshHash is not
// a stored hash (ErrExists), stores it as one of the grant's refresh
// hashes, sets Redeemed for a redemption, calls Advance and stores the
// grant. Outcome then gives what the method returns.

// CheckRedeem decides the redemption of g's code at now, g being the grant
// whose CodeHash was presented. It returns nil when the redemption may go
// ahead, and otherwise the error RedeemCode fails with: ErrNotFound when
// the grant or its code has expired, ErrRevoked when the grant was revoked,
// ErrCodeReused when the code was already redeemed, in which case it also
// sets g.Revoked, which the store must record in the same operation.
func (g *Grant) CheckRedeem(now time.Time) error {
	switch {
	case !now.Before(g.ExpiresAt):
		return ErrNotFound
	case g.Redeemed:
		g.Revoked = true
		return ErrCodeReused
	case g.Revoked:
		return ErrRevoked
	case !now.Before(g.CodeExpiresAt):
		return ErrNotFound
	}
	return nil
}

// CheckRotate decides the rotation of refreshHash, which was a refresh
// token of g (current or rotated away), into next at now. It returns nil
// when the rotation may go ahead, and otherwise the error RotateRefresh
// fails with: ErrNotFound when the grant has expired, ErrReused when
// refreshHash is no longer the current token, in which case it also sets
// g.Revoked, which the store must record in the same operation, ErrRevoked
// when the grant was revoked, and a plain error when next has no refresh
// token.
func (g *Grant) CheckRotate(refreshHash string, next TokenSet, now time.Time) error {
	switch {
	case !now.Before(g.ExpiresAt):
		return ErrNotFound
	case g.RefreshHash != refreshHash:
		g.Revoked = true
		return ErrReused
	case g.Revoked:
		return ErrRevoked
	case next.RefreshHash == "":
		return errors.New("server: RotateRefresh without a next refresh token")
	}
	return nil
}

// Advance records on g what a redemption or rotation issued at now:
// next.RefreshHash becomes the current refresh token and next.Access (if
// set) joins the access tokens, from which those expired at now are
// dropped.
func (g *Grant) Advance(next TokenSet, now time.Time) {
	g.RefreshHash = next.RefreshHash
	g.AccessTokens = slices.DeleteFunc(g.AccessTokens, func(r AccessTokenRef) bool { return !now.Before(r.ExpiresAt) })
	if next.Access.ID != "" {
		g.AccessTokens = append(g.AccessTokens, next.Access)
	}
}

// Outcome returns what RedeemCode and RotateRefresh return for the decision
// err about grant g: g alone when err is nil, g with err for a replay or a
// revoked grant (ErrCodeReused, ErrReused, ErrRevoked), and err alone
// otherwise.
func Outcome(g Grant, err error) (Grant, error) {
	switch err {
	case nil:
		return g, nil
	case ErrCodeReused, ErrReused, ErrRevoked:
		return g, err
	}
	return Grant{}, err
}

// RevokeGrant implements GrantStore.RevokeGrant.
func (s *MemoryStore) RevokeGrant(ctx context.Context, id string) ([]AccessTokenRef, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mg, ok := s.grants[id]
	if !ok {
		return nil, nil
	}
	mg.g.Revoked = true
	return slices.Clone(mg.g.AccessTokens), nil
}
