package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
)

// OAuthStore is a [server.Store] of the OAuth authorization server in the
// tables gatehouse_oauth_clients, gatehouse_oauth_grants and
// gatehouse_oauth_refresh_hashes. It holds SHA-256 hashes of codes, refresh
// tokens and client secrets, never the secrets themselves. Times are kept to
// the microsecond; lists (Scopes, Roles, RedirectURIs, ...) always come back
// non-nil.
//
// Every refresh hash ever made current for a grant is kept, with the grant,
// until [OAuthStore.DeleteExpired] removes the grant once it has expired;
// every method treats an expired grant as the interface requires meanwhile.
// A hash is at most one grant's code or one grant's refresh token: a
// CreateGrant, RedeemCode or RotateRefresh that would reuse a stored hash
// fails with [server.ErrExists] and changes nothing.
//
// It is safe for concurrent use, by several processes sharing the file
// too.
type OAuthStore struct {
	db *DB
}

var _ server.Store = (*OAuthStore)(nil)

// OAuth returns the store of the OAuth authorization server.
func (db *DB) OAuth() *OAuthStore { return &OAuthStore{db: db} }

const oauthClientColumns = `id, name, auth_method, secret_hash, redirect_uris, grant_types, scopes,
service_roles, require_pkce, introspect`

const oauthGrantColumns = `id, client_id, subject, username, email, roles, mfa_verified, mfa_verified_at,
mfa_methods, auth_time, scopes, redirect_uri, code_challenge, code_challenge_method, nonce, code_hash,
code_expires_at, redeemed, refresh_hash, access_tokens, created_at, expires_at, revoked`

// GetClient implements [server.ClientStore.GetClient]: one read by primary
// key, on the read pool. An unknown id is [server.ErrNotFound].
func (s *OAuthStore) GetClient(ctx context.Context, id string) (server.Client, error) {
	c, err := scanOAuthClient(s.db.r.QueryRowContext(ctx, `SELECT `+oauthClientColumns+` FROM gatehouse_oauth_clients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return server.Client{}, server.ErrNotFound
	}
	if err != nil {
		return server.Client{}, fmt.Errorf("sqlite: get oauth client: %w", err)
	}
	return c, nil
}

// PutClient implements [server.ClientStore.PutClient]: one INSERT ... ON
// CONFLICT (id) DO UPDATE on the writer, so the client is created or
// replaced whole, never half.
func (s *OAuthStore) PutClient(ctx context.Context, c server.Client) error {
	redirects, err := jsonList(c.RedirectURIs)
	if err != nil {
		return fmt.Errorf("sqlite: put oauth client: %w", err)
	}
	grantTypes := make([]string, len(c.GrantTypes))
	for i, g := range c.GrantTypes {
		grantTypes[i] = string(g)
	}
	grants, err := jsonList(grantTypes)
	if err != nil {
		return fmt.Errorf("sqlite: put oauth client: %w", err)
	}
	scopes, err := jsonList(c.Scopes)
	if err != nil {
		return fmt.Errorf("sqlite: put oauth client: %w", err)
	}
	roles, err := jsonList(c.ServiceRoles)
	if err != nil {
		return fmt.Errorf("sqlite: put oauth client: %w", err)
	}
	_, err = s.db.w.ExecContext(ctx, `INSERT INTO gatehouse_oauth_clients (`+oauthClientColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, auth_method = excluded.auth_method,
	secret_hash = excluded.secret_hash, redirect_uris = excluded.redirect_uris,
	grant_types = excluded.grant_types, scopes = excluded.scopes, service_roles = excluded.service_roles,
	require_pkce = excluded.require_pkce, introspect = excluded.introspect`,
		c.ID, c.Name, string(c.AuthMethod), c.SecretHash, redirects, grants, scopes, roles,
		oauthBool(c.RequirePKCE), oauthBool(c.Introspect))
	if err != nil {
		return fmt.Errorf("sqlite: put oauth client: %w", err)
	}
	return nil
}

// DeleteClient implements [server.ClientStore.DeleteClient]: one DELETE on
// the writer. Deleting a missing client is not an error; the client's
// grants stay.
func (s *OAuthStore) DeleteClient(ctx context.Context, id string) error {
	if _, err := s.db.w.ExecContext(ctx, `DELETE FROM gatehouse_oauth_clients WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete oauth client: %w", err)
	}
	return nil
}

// CreateGrant implements [server.GrantStore.CreateGrant].
//
// Isolation: one immediate transaction on the writer (SQLite's write lock
// held from BEGIN). It checks that neither the code hash nor the refresh
// hash (if any) is a stored code or refresh hash, then inserts the grant
// with ON CONFLICT DO NOTHING: a taken ID or code hash inserts nothing.
// Either way it returns [server.ErrExists] and the transaction is rolled
// back, so a refused grant leaves nothing behind.
func (s *OAuthStore) CreateGrant(ctx context.Context, g server.Grant) error {
	if g.ID == "" || g.CodeHash == "" {
		return errors.New("sqlite: oauth grant needs an ID and a code hash")
	}
	args, err := oauthGrantArgs(g)
	if err != nil {
		return fmt.Errorf("sqlite: create oauth grant: %w", err)
	}
	err = s.db.writeTx(ctx, func(tx *sql.Tx) error {
		if taken, err := oauthHashTaken(ctx, tx, g.CodeHash); err != nil {
			return err
		} else if taken {
			return server.ErrExists
		}
		if g.RefreshHash != "" {
			if g.RefreshHash == g.CodeHash {
				return server.ErrExists
			}
			if taken, err := oauthHashTaken(ctx, tx, g.RefreshHash); err != nil {
				return err
			} else if taken {
				return server.ErrExists
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO gatehouse_oauth_grants (`+oauthGrantColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return server.ErrExists
		}
		if g.RefreshHash != "" {
			return addOAuthRefresh(ctx, tx, g.ID, g.RefreshHash)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, server.ErrExists) {
			return err
		}
		return fmt.Errorf("sqlite: create oauth grant: %w", err)
	}
	return nil
}

// FindGrant implements [server.GrantStore.FindGrant]: one SELECT on the read
// pool that looks tokenHash up as a code hash (unique index) and as the
// current refresh hash of a grant (through gatehouse_oauth_refresh_hashes);
// being one statement, it reads one snapshot. Revoked, redeemed and expired
// grants are returned; a rotated-away refresh hash is [server.ErrNotFound].
func (s *OAuthStore) FindGrant(ctx context.Context, tokenHash string) (server.Grant, error) {
	g, err := scanOAuthGrant(s.db.r.QueryRowContext(ctx, `SELECT `+oauthGrantColumns+`
FROM gatehouse_oauth_grants WHERE code_hash = ?1
UNION ALL
SELECT `+oauthGrantColumns+`
FROM gatehouse_oauth_grants
WHERE id = (SELECT grant_id FROM gatehouse_oauth_refresh_hashes WHERE hash = ?1) AND refresh_hash = ?1
LIMIT 1`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return server.Grant{}, server.ErrNotFound
	}
	if err != nil {
		return server.Grant{}, fmt.Errorf("sqlite: find oauth grant: %w", err)
	}
	return g, nil
}

// RedeemCode implements [server.GrantStore.RedeemCode].
//
// Isolation: one immediate transaction on the writer, which holds SQLite's
// write lock from BEGIN: reading the grant by its code hash, checking it and
// marking it redeemed cannot interleave with another redemption, in this
// process or another, so of concurrent redemptions of one code exactly one
// succeeds and the others see it redeemed. The revocation that answers a
// reused code is committed before [server.ErrCodeReused] is returned with
// the revoked grant. A next.RefreshHash that is already a stored hash is
// [server.ErrExists] and changes nothing.
func (s *OAuthStore) RedeemCode(ctx context.Context, codeHash string, next server.TokenSet, now time.Time) (server.Grant, error) {
	var g server.Grant
	var outcome error
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		g, err = scanOAuthGrant(tx.QueryRowContext(ctx, `SELECT `+oauthGrantColumns+` FROM gatehouse_oauth_grants WHERE code_hash = ?`, codeHash))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			outcome = server.ErrNotFound
			return nil
		case err != nil:
			return err
		}
		if outcome = g.CheckRedeem(now); outcome != nil {
			return storeOAuthRevoked(ctx, tx, g, outcome == server.ErrCodeReused)
		}
		g.Redeemed = true
		outcome, err = advanceOAuthGrant(ctx, tx, &g, next, now)
		return err
	})
	if err != nil {
		return server.Grant{}, fmt.Errorf("sqlite: redeem oauth code: %w", err)
	}
	return server.Outcome(g, outcome)
}

// RotateRefresh implements [server.GrantStore.RotateRefresh].
//
// Isolation: one immediate transaction on the writer, which holds SQLite's
// write lock from BEGIN: finding the grant of refreshHash among every
// refresh hash it ever had, comparing it with the current one and swapping
// in next.RefreshHash cannot interleave with another rotation, so of
// concurrent rotations of one token exactly one succeeds and the others see
// a rotated-away token. The revocation that answers a reused token is
// committed before [server.ErrReused] is returned with the revoked grant.
// Access tokens expired at now are dropped from the grant. A
// next.RefreshHash that is already a stored hash is [server.ErrExists] and
// changes nothing; an empty one is an error.
func (s *OAuthStore) RotateRefresh(ctx context.Context, refreshHash string, next server.TokenSet, now time.Time) (server.Grant, error) {
	var g server.Grant
	var outcome error
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		g, err = scanOAuthGrant(tx.QueryRowContext(ctx, `SELECT `+oauthGrantColumns+` FROM gatehouse_oauth_grants
WHERE id = (SELECT grant_id FROM gatehouse_oauth_refresh_hashes WHERE hash = ?)`, refreshHash))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			outcome = server.ErrNotFound
			return nil
		case err != nil:
			return err
		}
		if outcome = g.CheckRotate(refreshHash, next, now); outcome != nil {
			return storeOAuthRevoked(ctx, tx, g, outcome == server.ErrReused)
		}
		outcome, err = advanceOAuthGrant(ctx, tx, &g, next, now)
		return err
	})
	if err != nil {
		return server.Grant{}, fmt.Errorf("sqlite: rotate oauth refresh token: %w", err)
	}
	return server.Outcome(g, outcome)
}

// RevokeGrant implements [server.GrantStore.RevokeGrant]: one immediate
// transaction on the writer running one UPDATE ... RETURNING, so the access
// tokens returned are those recorded when the grant was revoked, and no
// later redemption or rotation can succeed. Revoking a missing or revoked
// grant is not an error; a missing one returns no tokens.
func (s *OAuthStore) RevokeGrant(ctx context.Context, id string) ([]server.AccessTokenRef, error) {
	var refs []server.AccessTokenRef
	err := s.db.writeTx(ctx, func(tx *sql.Tx) error {
		refs = nil
		var access string
		err := tx.QueryRowContext(ctx, `UPDATE gatehouse_oauth_grants SET revoked = 1 WHERE id = ? RETURNING access_tokens`, id).Scan(&access)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		refs, err = parseOAuthAccess(access)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: revoke oauth grant: %w", err)
	}
	return refs, nil
}

// DeleteExpired deletes the grants whose ExpiresAt is at or before now,
// with every refresh hash they had, and returns how many grants it
// deleted. Hosts call it periodically. It is one DELETE on the expires_at
// index, on the writer; the refresh hashes go with their grant through
// the foreign key's ON DELETE CASCADE in the same statement, so no reader
// sees a grant without its hashes. Clients are never deleted.
func (s *OAuthStore) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.w.ExecContext(ctx, `DELETE FROM gatehouse_oauth_grants WHERE expires_at <= ?`, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired oauth grants: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired oauth grants: %w", err)
	}
	return n, nil
}

// oauthHashTaken reports whether hash is a stored code hash or refresh
// hash, of any grant.
func oauthHashTaken(ctx context.Context, tx *sql.Tx, hash string) (bool, error) {
	var taken bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM gatehouse_oauth_grants WHERE code_hash = ?1)
	OR EXISTS (SELECT 1 FROM gatehouse_oauth_refresh_hashes WHERE hash = ?1)`, hash).Scan(&taken)
	return taken, err
}

// addOAuthRefresh records hash as a refresh hash of grant id; the caller
// checked that it is not taken.
func addOAuthRefresh(ctx context.Context, tx *sql.Tx, id, hash string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO gatehouse_oauth_refresh_hashes (hash, grant_id) VALUES (?, ?)`, hash, id)
	return err
}

// storeOAuthRevoked records the revocation that CheckRedeem or CheckRotate
// made on g when replay is set.
func storeOAuthRevoked(ctx context.Context, tx *sql.Tx, g server.Grant, replay bool) error {
	if !replay {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE gatehouse_oauth_grants SET revoked = 1 WHERE id = ?`, g.ID)
	return err
}

// advanceOAuthGrant stores next.RefreshHash as a refresh hash of g, records
// next on g (server.Grant.Advance) and writes g's row. It returns the
// outcome ErrExists, writing nothing, when next.RefreshHash is already a
// stored hash.
func advanceOAuthGrant(ctx context.Context, tx *sql.Tx, g *server.Grant, next server.TokenSet, now time.Time) (outcome, err error) {
	if next.RefreshHash != "" {
		taken, err := oauthHashTaken(ctx, tx, next.RefreshHash)
		if err != nil {
			return nil, err
		}
		if taken {
			return server.ErrExists, nil
		}
		if err := addOAuthRefresh(ctx, tx, g.ID, next.RefreshHash); err != nil {
			return nil, err
		}
	}
	g.Advance(next, now)
	access, err := oauthAccessJSON(g.AccessTokens)
	if err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE gatehouse_oauth_grants SET redeemed = ?, refresh_hash = ?, access_tokens = ? WHERE id = ?`,
		oauthBool(g.Redeemed), g.RefreshHash, access, g.ID)
	return nil, err
}

// oauthAccessRef is the JSON form of a server.AccessTokenRef, its expiry in
// Unix microseconds.
type oauthAccessRef struct {
	ID        string `json:"id"`
	ExpiresAt int64  `json:"expires_at"`
}

// oauthAccessJSON encodes refs for the access_tokens column.
func oauthAccessJSON(refs []server.AccessTokenRef) (string, error) {
	out := make([]oauthAccessRef, len(refs))
	for i, r := range refs {
		out[i] = oauthAccessRef{ID: r.ID, ExpiresAt: r.ExpiresAt.UnixMicro()}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// parseOAuthAccess decodes the access_tokens column; the result is never
// nil.
func parseOAuthAccess(s string) ([]server.AccessTokenRef, error) {
	var in []oauthAccessRef
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("access tokens: %w", err)
	}
	refs := make([]server.AccessTokenRef, len(in))
	for i, r := range in {
		refs[i] = server.AccessTokenRef{ID: r.ID, ExpiresAt: time.UnixMicro(r.ExpiresAt).UTC()}
	}
	return refs, nil
}

// parseOAuthList decodes a JSON array column; the result is never nil.
func parseOAuthList(s string) ([]string, error) {
	l := []string{}
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, err
	}
	if l == nil { // the column held null
		l = []string{}
	}
	return l, nil
}

func oauthBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

// oauthGrantArgs returns g's values in the order of oauthGrantColumns.
func oauthGrantArgs(g server.Grant) ([]any, error) {
	roles, err := jsonList(g.Roles)
	if err != nil {
		return nil, err
	}
	methods, err := jsonList(g.MFA.Methods)
	if err != nil {
		return nil, err
	}
	scopes, err := jsonList(g.Scopes)
	if err != nil {
		return nil, err
	}
	access, err := oauthAccessJSON(g.AccessTokens)
	if err != nil {
		return nil, err
	}
	return []any{g.ID, g.ClientID, g.Subject, g.Username, g.Email, roles, oauthBool(g.MFA.Verified),
		nullMicro(g.MFA.VerifiedAt), methods, nullMicro(g.AuthTime), scopes, g.RedirectURI,
		g.CodeChallenge, g.CodeChallengeMethod, g.Nonce, g.CodeHash, g.CodeExpiresAt.UnixMicro(),
		oauthBool(g.Redeemed), g.RefreshHash, access, g.CreatedAt.UnixMicro(), g.ExpiresAt.UnixMicro(),
		oauthBool(g.Revoked)}, nil
}

// scanOAuthGrant reads one row of oauthGrantColumns.
func scanOAuthGrant(row scanner) (server.Grant, error) {
	var g server.Grant
	var roles, methods, scopes, access string
	var verified, redeemed, revoked int
	var verifiedAt, authTime sql.NullInt64
	var codeExpires, created, expires int64
	err := row.Scan(&g.ID, &g.ClientID, &g.Subject, &g.Username, &g.Email, &roles, &verified, &verifiedAt,
		&methods, &authTime, &scopes, &g.RedirectURI, &g.CodeChallenge, &g.CodeChallengeMethod, &g.Nonce,
		&g.CodeHash, &codeExpires, &redeemed, &g.RefreshHash, &access, &created, &expires, &revoked)
	if err != nil {
		return server.Grant{}, err
	}
	var errRoles, errMethods, errScopes, errAccess error
	g.Roles, errRoles = parseOAuthList(roles)
	g.MFA.Methods, errMethods = parseOAuthList(methods)
	g.Scopes, errScopes = parseOAuthList(scopes)
	g.AccessTokens, errAccess = parseOAuthAccess(access)
	if err := errors.Join(errRoles, errMethods, errScopes, errAccess); err != nil {
		return server.Grant{}, fmt.Errorf("oauth grant %s: %w", g.ID, err)
	}
	g.MFA.Verified = verified != 0
	g.MFA.VerifiedAt = fromMicro(verifiedAt)
	g.AuthTime = fromMicro(authTime)
	g.CodeExpiresAt = time.UnixMicro(codeExpires).UTC()
	g.Redeemed = redeemed != 0
	g.CreatedAt = time.UnixMicro(created).UTC()
	g.ExpiresAt = time.UnixMicro(expires).UTC()
	g.Revoked = revoked != 0
	return g, nil
}

// scanOAuthClient reads one row of oauthClientColumns.
func scanOAuthClient(row scanner) (server.Client, error) {
	var c server.Client
	var method, redirects, grants, scopes, roles string
	var pkce, introspect int
	err := row.Scan(&c.ID, &c.Name, &method, &c.SecretHash, &redirects, &grants, &scopes, &roles, &pkce, &introspect)
	if err != nil {
		return server.Client{}, err
	}
	var errRedirects, errGrants, errScopes, errRoles error
	var grantTypes []string
	c.RedirectURIs, errRedirects = parseOAuthList(redirects)
	grantTypes, errGrants = parseOAuthList(grants)
	c.Scopes, errScopes = parseOAuthList(scopes)
	c.ServiceRoles, errRoles = parseOAuthList(roles)
	if err := errors.Join(errRedirects, errGrants, errScopes, errRoles); err != nil {
		return server.Client{}, fmt.Errorf("oauth client %s: %w", c.ID, err)
	}
	c.GrantTypes = make([]server.GrantType, len(grantTypes))
	for i, g := range grantTypes {
		c.GrantTypes[i] = server.GrantType(g)
	}
	c.AuthMethod = server.AuthMethod(method)
	c.RequirePKCE = pkce != 0
	c.Introspect = introspect != 0
	return c, nil
}
