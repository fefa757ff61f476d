package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// OAuthStore is a [server.Store] (client registrations and grants of the
// OAuth authorization server) in the tables gatehouse_oauth_clients,
// gatehouse_oauth_grants and gatehouse_oauth_grant_hashes. The last one
// holds every token hash a grant ever had, its code and each refresh token
// made current, so that RotateRefresh tells the reuse of a rotated-away
// refresh token (ErrReused) from a forged one (ErrNotFound) for as long as
// the grant is stored.
//
// Grant and client times are kept at PostgreSQL's microsecond precision
// (rounded down, so a grant or code expires up to a microsecond early, never
// late); the expiries of recorded access tokens are kept exactly. Lists
// round-trip as they were stored, nil or empty, except Grant.Scopes, which
// is never nil when read. Expired grants stay until
// [OAuthStore.DeleteExpired] removes them; every method treats them as the
// interface requires meanwhile. There is no limit on the number of grants:
// it never returns [server.ErrStoreFull].
//
// It is safe for concurrent use.
type OAuthStore struct {
	db *DB
}

var _ server.Store = (*OAuthStore)(nil)

// OAuth returns the store of the OAuth authorization server.
func (db *DB) OAuth() *OAuthStore { return &OAuthStore{db: db} }

const clientColumns = `id, name, auth_method, secret_hash, redirect_uris, grant_types, scopes, service_roles, require_pkce, introspect`

// GetClient implements [server.ClientStore.GetClient]: one read by primary
// key.
func (s *OAuthStore) GetClient(ctx context.Context, id string) (server.Client, error) {
	var c server.Client
	var method string
	var grantTypes []string
	err := s.db.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM gatehouse_oauth_clients WHERE id = $1`, id).Scan(
		&c.ID, &c.Name, &method, &c.SecretHash, &c.RedirectURIs, &grantTypes, &c.Scopes, &c.ServiceRoles,
		&c.RequirePKCE, &c.Introspect)
	if errors.Is(err, pgx.ErrNoRows) {
		return server.Client{}, server.ErrNotFound
	}
	if err != nil {
		return server.Client{}, fmt.Errorf("postgres: get oauth client: %w", err)
	}
	c.AuthMethod = server.AuthMethod(method)
	if grantTypes != nil {
		c.GrantTypes = make([]server.GrantType, len(grantTypes))
		for i, g := range grantTypes {
			c.GrantTypes[i] = server.GrantType(g)
		}
	}
	return c, nil
}

// PutClient implements [server.ClientStore.PutClient]: one INSERT ... ON
// CONFLICT DO UPDATE, so a concurrent put of the same ID replaces the row
// rather than failing.
func (s *OAuthStore) PutClient(ctx context.Context, c server.Client) error {
	var grantTypes []string
	if c.GrantTypes != nil {
		grantTypes = make([]string, len(c.GrantTypes))
		for i, g := range c.GrantTypes {
			grantTypes[i] = string(g)
		}
	}
	_, err := s.db.pool.Exec(ctx, `INSERT INTO gatehouse_oauth_clients (`+clientColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, auth_method = EXCLUDED.auth_method,
	secret_hash = EXCLUDED.secret_hash, redirect_uris = EXCLUDED.redirect_uris, grant_types = EXCLUDED.grant_types,
	scopes = EXCLUDED.scopes, service_roles = EXCLUDED.service_roles, require_pkce = EXCLUDED.require_pkce,
	introspect = EXCLUDED.introspect`,
		c.ID, c.Name, string(c.AuthMethod), c.SecretHash, c.RedirectURIs, grantTypes, c.Scopes, c.ServiceRoles,
		c.RequirePKCE, c.Introspect)
	if err != nil {
		return fmt.Errorf("postgres: put oauth client: %w", err)
	}
	return nil
}

// DeleteClient implements [server.ClientStore.DeleteClient]: one DELETE.
// The client's grants stay.
func (s *OAuthStore) DeleteClient(ctx context.Context, id string) error {
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM gatehouse_oauth_clients WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: delete oauth client: %w", err)
	}
	return nil
}

// grantColumns are the columns of gatehouse_oauth_grants. No column of
// gatehouse_oauth_grant_hashes has one of these names, so they need no
// qualifier in a join.
const grantColumns = `id, client_id, subject, username, email, roles, mfa_verified, mfa_verified_at, mfa_methods,
auth_time, scopes, redirect_uri, code_challenge, code_challenge_method, nonce, code_hash, code_expires_at,
redeemed, refresh_hash, access_tokens, created_at, expires_at, revoked`

// CreateGrant implements [server.GrantStore.CreateGrant].
//
// Isolation: one READ COMMITTED transaction that inserts the grant row and
// the rows of its code hash and, if set, its refresh hash into
// gatehouse_oauth_grant_hashes. A taken ID or hash makes a primary key or
// unique index refuse an insert (unique_violation, 23505, also against a
// concurrent insert, which the index makes wait): the transaction rolls
// back, storing nothing, and CreateGrant returns a wrapped ErrExists.
func (s *OAuthStore) CreateGrant(ctx context.Context, g server.Grant) error {
	access, err := encodeAccess(g.AccessTokens)
	if err != nil {
		return fmt.Errorf("postgres: create grant: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO gatehouse_oauth_grants (`+grantColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
			g.ID, g.ClientID, g.Subject, g.Username, g.Email, g.Roles, g.MFA.Verified, nullTime(g.MFA.VerifiedAt),
			g.MFA.Methods, nullTime(g.AuthTime), list(g.Scopes), g.RedirectURI, g.CodeChallenge, g.CodeChallengeMethod,
			g.Nonce, g.CodeHash, g.CodeExpiresAt, g.Redeemed, g.RefreshHash, access, g.CreatedAt, g.ExpiresAt, g.Revoked)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO gatehouse_oauth_grant_hashes (hash, grant_id, kind) VALUES ($1, $2, 'code')`, g.CodeHash, g.ID); err != nil {
			return err
		}
		if g.RefreshHash != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO gatehouse_oauth_grant_hashes (hash, grant_id, kind) VALUES ($1, $2, 'refresh')`, g.RefreshHash, g.ID); err != nil {
				return err
			}
		}
		return nil
	})
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pgErr) && pgErr.Code == "23505": // unique_violation
		return fmt.Errorf("postgres: create grant %s: %w", g.ID, server.ErrExists)
	}
	return fmt.Errorf("postgres: create grant: %w", err)
}

// FindGrant implements [server.GrantStore.FindGrant]: one read joining the
// hash to its grant, which matches a code hash, or a refresh hash only while
// it is the grant's current one. Expired grants that DeleteExpired has not
// removed yet are returned, as the interface allows.
func (s *OAuthStore) FindGrant(ctx context.Context, tokenHash string) (server.Grant, error) {
	g, err := scanGrant(s.db.pool.QueryRow(ctx, `SELECT `+grantColumns+`
FROM gatehouse_oauth_grant_hashes h JOIN gatehouse_oauth_grants g ON g.id = h.grant_id
WHERE h.hash = $1 AND (h.kind = 'code' OR g.refresh_hash = h.hash)`, tokenHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return server.Grant{}, server.ErrNotFound
	}
	if err != nil {
		return server.Grant{}, fmt.Errorf("postgres: find grant: %w", err)
	}
	return g, nil
}

// RedeemCode implements [server.GrantStore.RedeemCode].
//
// Isolation: one READ COMMITTED transaction that reads the grant by its
// code hash with SELECT ... FOR UPDATE, so concurrent redemptions of one
// code queue on the grant's row lock and each sees the committed result of
// the one before: exactly one redeems, and the others find the code
// redeemed (ErrCodeReused). A replay commits the grant's revocation before
// ErrCodeReused is returned. The next refresh hash is inserted into
// gatehouse_oauth_grant_hashes in the same transaction; if any grant already
// has that hash, nothing changes and RedeemCode returns ErrExists.
func (s *OAuthStore) RedeemCode(ctx context.Context, codeHash string, next server.TokenSet, now time.Time) (server.Grant, error) {
	var g server.Grant
	var outcome error
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		var err error
		g, err = scanGrant(tx.QueryRow(ctx, `SELECT `+grantColumns+`
FROM gatehouse_oauth_grants g WHERE g.code_hash = $1 FOR UPDATE`, codeHash))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			outcome = server.ErrNotFound
			return nil
		case err != nil:
			return err
		}
		if outcome = g.CheckRedeem(now); outcome != nil {
			return storeRevoked(ctx, tx, g, outcome == server.ErrCodeReused)
		}
		g.Redeemed = true
		outcome, err = advance(ctx, tx, &g, next, now)
		return err
	})
	if err != nil {
		return server.Grant{}, fmt.Errorf("postgres: redeem code: %w", err)
	}
	return server.Outcome(g, outcome)
}

// RotateRefresh implements [server.GrantStore.RotateRefresh].
//
// Isolation: one READ COMMITTED transaction that finds the grant through
// gatehouse_oauth_grant_hashes, where every refresh hash it ever had stays
// until the grant is deleted, and locks it with SELECT ... FOR UPDATE, so
// concurrent rotations of one refresh token queue on the grant's row lock
// and each sees the committed result of the one before: exactly one
// rotates, and the others find the token rotated away (ErrReused). A reuse
// commits the grant's revocation before ErrReused is returned. The next
// refresh hash is inserted in the same transaction; if any grant already has
// it, nothing changes and RotateRefresh returns ErrExists.
func (s *OAuthStore) RotateRefresh(ctx context.Context, refreshHash string, next server.TokenSet, now time.Time) (server.Grant, error) {
	var g server.Grant
	var outcome error
	err := pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		var err error
		g, err = scanGrant(tx.QueryRow(ctx, `SELECT `+grantColumns+`
FROM gatehouse_oauth_grant_hashes h JOIN gatehouse_oauth_grants g ON g.id = h.grant_id
WHERE h.hash = $1 AND h.kind = 'refresh' FOR UPDATE OF g`, refreshHash))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			outcome = server.ErrNotFound
			return nil
		case err != nil:
			return err
		}
		if outcome = g.CheckRotate(refreshHash, next, now); outcome != nil {
			return storeRevoked(ctx, tx, g, outcome == server.ErrReused)
		}
		outcome, err = advance(ctx, tx, &g, next, now)
		return err
	})
	if err != nil {
		return server.Grant{}, fmt.Errorf("postgres: rotate refresh token: %w", err)
	}
	return server.Outcome(g, outcome)
}

// RevokeGrant implements [server.GrantStore.RevokeGrant]: one UPDATE ...
// RETURNING, which takes the grant's row lock, so it runs before or after a
// concurrent redemption or rotation, never in between: the access tokens it
// returns include those the other committed first, and a redemption or
// rotation waiting behind it finds the grant revoked.
func (s *OAuthStore) RevokeGrant(ctx context.Context, id string) ([]server.AccessTokenRef, error) {
	var raw []byte
	err := s.db.pool.QueryRow(ctx, `UPDATE gatehouse_oauth_grants SET revoked = true WHERE id = $1 RETURNING access_tokens`, id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: revoke grant: %w", err)
	}
	refs, err := decodeAccess(raw)
	if err != nil {
		return nil, fmt.Errorf("postgres: revoke grant: %w", err)
	}
	return refs, nil
}

// DeleteExpired deletes the grants whose ExpiresAt is at or before now,
// with every code and refresh hash they had (ON DELETE CASCADE), and
// returns how many grants it deleted. Hosts call it periodically; until
// then the grants stay, and every method treats them as expired. It is one
// DELETE on the expires_at index; a grant that a redemption or rotation has
// locked is deleted after that one commits.
func (s *OAuthStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.db.pool.Exec(ctx, `DELETE FROM gatehouse_oauth_grants WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired grants: %w", err)
	}
	return tag.RowsAffected(), nil
}

// storeRevoked records the revocation that CheckRedeem or CheckRotate made
// on g, whose row the transaction holds locked, when replay is set.
func storeRevoked(ctx context.Context, tx pgx.Tx, g server.Grant, replay bool) error {
	if !replay {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE gatehouse_oauth_grants SET revoked = true WHERE id = $1`, g.ID)
	return err
}

// advance stores next.RefreshHash as a refresh hash of g, records next on
// g (server.Grant.Advance) and writes g's row, which the transaction holds
// locked. It returns the outcome ErrExists, writing nothing, when any grant
// already has that hash.
func advance(ctx context.Context, tx pgx.Tx, g *server.Grant, next server.TokenSet, now time.Time) (outcome, err error) {
	if next.RefreshHash != "" {
		taken, err := addRefreshHash(ctx, tx, g.ID, next.RefreshHash)
		if err != nil {
			return nil, err
		}
		if taken {
			return server.ErrExists, nil
		}
	}
	g.Advance(next, now)
	access, err := encodeAccess(g.AccessTokens)
	if err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, `UPDATE gatehouse_oauth_grants SET redeemed = $2, refresh_hash = $3, access_tokens = $4 WHERE id = $1`,
		g.ID, g.Redeemed, g.RefreshHash, access)
	return nil, err
}

// addRefreshHash records hash as a refresh hash of grant id. It reports
// taken, inserting nothing, when any grant already has that hash.
func addRefreshHash(ctx context.Context, tx pgx.Tx, id, hash string) (taken bool, err error) {
	tag, err := tx.Exec(ctx, `INSERT INTO gatehouse_oauth_grant_hashes (hash, grant_id, kind) VALUES ($1, $2, 'refresh')
ON CONFLICT (hash) DO NOTHING`, hash, id)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 0, nil
}

// accessRef is the JSON form of server.AccessTokenRef in the access_tokens
// column.
type accessRef struct {
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// encodeAccess returns the JSON of refs, or nil (SQL NULL) for a nil list.
func encodeAccess(refs []server.AccessTokenRef) ([]byte, error) {
	if refs == nil {
		return nil, nil
	}
	out := make([]accessRef, len(refs))
	for i, r := range refs {
		out[i] = accessRef{ID: r.ID, ExpiresAt: r.ExpiresAt}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("access tokens: %w", err)
	}
	return b, nil
}

// decodeAccess reads the access_tokens column: nil for SQL NULL.
func decodeAccess(raw []byte) ([]server.AccessTokenRef, error) {
	if raw == nil {
		return nil, nil
	}
	var in []accessRef
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("access tokens: %w", err)
	}
	refs := make([]server.AccessTokenRef, len(in))
	for i, r := range in {
		refs[i] = server.AccessTokenRef{ID: r.ID, ExpiresAt: r.ExpiresAt.UTC()}
	}
	return refs, nil
}

// scanGrant reads one row of grantColumns.
func scanGrant(row pgx.Row) (server.Grant, error) {
	var g server.Grant
	var verifiedAt, authTime *time.Time
	var access []byte
	err := row.Scan(&g.ID, &g.ClientID, &g.Subject, &g.Username, &g.Email, &g.Roles, &g.MFA.Verified, &verifiedAt,
		&g.MFA.Methods, &authTime, &g.Scopes, &g.RedirectURI, &g.CodeChallenge, &g.CodeChallengeMethod, &g.Nonce,
		&g.CodeHash, &g.CodeExpiresAt, &g.Redeemed, &g.RefreshHash, &access, &g.CreatedAt, &g.ExpiresAt, &g.Revoked)
	if err != nil {
		return server.Grant{}, err
	}
	if g.AccessTokens, err = decodeAccess(access); err != nil {
		return server.Grant{}, err
	}
	if g.Scopes == nil {
		g.Scopes = []string{}
	}
	g.MFA.VerifiedAt = fromNull(verifiedAt)
	g.AuthTime = fromNull(authTime)
	g.CodeExpiresAt, g.CreatedAt, g.ExpiresAt = g.CodeExpiresAt.UTC(), g.CreatedAt.UTC(), g.ExpiresAt.UTC()
	return g, nil
}
