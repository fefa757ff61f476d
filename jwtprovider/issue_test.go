package jwtprovider_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// decodePart returns the JSON object of segment i (0 header, 1 payload) of
// a token, decoded without verification, for inspecting what was issued.
func decodePart(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	seg := strings.Split(token, ".")[i]
	b, err := jwt.NewParser().DecodeSegment(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIssuePairClaims(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	now := f.clock.Now()
	mfaAt := now.Add(-time.Minute)
	s := jwtprovider.Subject{
		ID: "user-7", Username: "ada", Email: "ada@example.com",
		Roles:    []string{"engineer", "operator"},
		Scopes:   []string{"predictions:read", "alerts:read"},
		ClientID: "mill-dashboard",
		MFA:      auth.MFAState{Verified: true, VerifiedAt: mfaAt, Methods: []string{"pwd", "otp"}},
		Custom:   map[string]any{"department": "rolling-mill", "security_clearance": 3},
	}
	pair, err := f.p.IssuePair(ctx, s)
	if err != nil {
		t.Fatalf("IssuePair: %v", err)
	}
	if pair.Access.Lifetime() != jwtprovider.DefaultAccessTTL || pair.Refresh.Lifetime() != jwtprovider.DefaultRefreshTTL {
		t.Fatalf("lifetimes %v / %v", pair.Access.Lifetime(), pair.Refresh.Lifetime())
	}
	if !pair.Access.IssuedAt.Equal(now) || !pair.Access.ExpiresAt.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("access times %v..%v", pair.Access.IssuedAt, pair.Access.ExpiresAt)
	}

	ah := decodePart(t, pair.Access.Value, 0)
	if ah["typ"] != "at+jwt" || ah["alg"] != "HS256" || ah["kid"] != "hs-1" || len(ah) != 3 {
		t.Fatalf("access header %v", ah)
	}
	rh := decodePart(t, pair.Refresh.Value, 0)
	if rh["typ"] != "refresh+jwt" || rh["kid"] != "hs-1" {
		t.Fatalf("refresh header %v", rh)
	}
	ap := decodePart(t, pair.Access.Value, 1)
	want := map[string]any{
		"iss": testIssuer, "sub": "user-7", "aud": testAudience,
		"iat": float64(now.Unix()), "nbf": float64(now.Unix()), "exp": float64(now.Add(15 * time.Minute).Unix()),
		"jti": pair.Access.ID, "preferred_username": "ada", "email": "ada@example.com",
		"roles": []any{"engineer", "operator"}, "scope": "predictions:read alerts:read",
		"client_id": "mill-dashboard", "amr": []any{"pwd", "otp", "mfa"}, "auth_time": float64(mfaAt.Unix()),
		"sid": pair.SessionID, "department": "rolling-mill", "security_clearance": float64(3),
	}
	if !jsonEqual(ap, want) {
		t.Fatalf("access claims\n got %v\nwant %v", ap, want)
	}
	rp := decodePart(t, pair.Refresh.Value, 1)
	if rp["aud"] != testIssuer || rp["sid"] != pair.SessionID || rp["jti"] != pair.Refresh.ID ||
		rp["exp"] != float64(now.Add(24*time.Hour).Unix()) {
		t.Fatalf("refresh claims %v", rp)
	}
	if len(pair.Access.ID) < 22 || pair.Access.ID == pair.Refresh.ID {
		t.Fatalf("token IDs %q %q", pair.Access.ID, pair.Refresh.ID)
	}

	c, err := f.p.Verify(ctx, pair.Access.Value)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Subject != "user-7" || c.Username != "ada" || !slices.Equal(c.Scopes, s.Scopes) || c.ClientID != "mill-dashboard" ||
		c.KeyID != "hs-1" || c.Type != jwtprovider.AccessToken || c.SessionID != pair.SessionID {
		t.Fatalf("verified claims %+v", c)
	}
	st := c.MFA()
	if !st.Verified || !st.VerifiedAt.Equal(mfaAt.Truncate(time.Second)) || !slices.Equal(st.Methods, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("MFA %+v", st)
	}
	info := c.Info()
	if info.ID != pair.Access.ID || !info.IssuedAt.Equal(now) || info.TokenType != jwtprovider.AccessToken || info.Subject != "user-7" {
		t.Fatalf("Info %+v", info)
	}

	ev := f.events.of(auth.EventTokenIssued)
	if len(ev) != 1 || ev[0].Subject != "user-7" || ev[0].Username != "ada" || ev[0].Method != auth.MethodJWT || ev[0].Attrs["jti"] != pair.Access.ID {
		t.Fatalf("token_issued events %+v", ev)
	}
	for k, v := range ev[0].Attrs {
		if strings.Contains(v, ".") {
			t.Fatalf("event attribute %s = %q looks like a token", k, v)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestIssueScopes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	for _, tc := range []struct {
		name      string
		scopes    []string
		wantClaim any // nil: absent
	}{
		{"nil scopes: no claim, not narrowed", nil, nil},
		{"empty scopes: empty claim, grants nothing", []string{}, ""},
		{"one scope", []string{"alerts:read"}, "alerts:read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := f.p.Issue(ctx, jwtprovider.Subject{ID: "u", Scopes: tc.scopes})
			if err != nil {
				t.Fatal(err)
			}
			claim, present := decodePart(t, tok.Value, 1)["scope"]
			if present != (tc.wantClaim != nil) || (present && claim != tc.wantClaim) {
				t.Fatalf("scope claim = %v (present %v), want %v", claim, present, tc.wantClaim)
			}
			c, err := f.p.Verify(ctx, tok.Value)
			if err != nil {
				t.Fatal(err)
			}
			if (c.Scopes == nil) != (tc.scopes == nil) || !slices.Equal(c.Scopes, tc.scopes) {
				t.Fatalf("Scopes = %#v, want %#v", c.Scopes, tc.scopes)
			}
			if _, sid := decodePart(t, tok.Value, 1)["sid"]; sid {
				t.Fatal("a token from Issue carries a family ID")
			}
		})
	}
}

func TestIssueRejectsBadSubjects(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	for _, tc := range []struct {
		name string
		s    jwtprovider.Subject
		want error
	}{
		{"empty ID", jwtprovider.Subject{}, jwtprovider.ErrSubject},
		{"scope with a space smuggling a second scope", jwtprovider.Subject{ID: "u", Scopes: []string{"read admin"}}, jwtprovider.ErrSubject},
		{"scope with a quote", jwtprovider.Subject{ID: "u", Scopes: []string{`a"b`}}, jwtprovider.ErrSubject},
		{"empty scope", jwtprovider.Subject{ID: "u", Scopes: []string{""}}, jwtprovider.ErrSubject},
		{"custom claim overriding sub", jwtprovider.Subject{ID: "u", Custom: map[string]any{"sub": "admin"}}, jwtprovider.ErrSubject},
		{"custom claim overriding roles", jwtprovider.Subject{ID: "u", Custom: map[string]any{"roles": []string{"admin"}}}, jwtprovider.ErrSubject},
		{"custom claim overriding scope", jwtprovider.Subject{ID: "u", Custom: map[string]any{"scope": "admin"}}, jwtprovider.ErrSubject},
		{"custom claim overriding exp", jwtprovider.Subject{ID: "u", Custom: map[string]any{"exp": 1 << 40}}, jwtprovider.ErrSubject},
		{"custom claims over the size cap", jwtprovider.Subject{ID: "u", Custom: map[string]any{"blob": strings.Repeat("x", 9000)}}, jwtprovider.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.p.Issue(ctx, tc.s); !errors.Is(err, tc.want) {
				t.Fatalf("Issue: %v, want %v", err, tc.want)
			}
			if _, err := f.p.IssuePair(ctx, tc.s); !errors.Is(err, tc.want) {
				t.Fatalf("IssuePair: %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := f.p.Issue(ctx, jwtprovider.Subject{ID: "u", Custom: map[string]any{"ch": make(chan int)}}); err == nil {
		t.Fatal("Issue with a custom claim JSON cannot encode succeeded")
	}
}

// TestIssuedTokensParseWithGolangJWT checks interoperability: the issued
// tokens verify with golang-jwt's parser and *Claims as its claims type.
func TestIssuedTokensParseWithGolangJWT(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *jwtprovider.Config) { c.ActiveKeyID = "es-1" })
	pair, err := f.p.IssuePair(ctx, jwtprovider.Subject{ID: "user-7", Roles: []string{"operator"}, Custom: map[string]any{"plant": "north"}})
	if err != nil {
		t.Fatal(err)
	}
	var c jwtprovider.Claims
	_, err = jwt.ParseWithClaims(pair.Access.Value, &c, func(*jwt.Token) (any, error) { return &ecKey().PublicKey, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(testIssuer), jwt.WithAudience(testAudience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(f.clock.Now))
	if err != nil {
		t.Fatalf("golang-jwt ParseWithClaims: %v", err)
	}
	if c.Subject != "user-7" || !slices.Equal(c.Roles, []string{"operator"}) || c.Custom["plant"] != "north" || c.SessionID != pair.SessionID {
		t.Fatalf("claims %+v", c)
	}
}
