package jwtprovider_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// TestVerifyTimeClaimsAroundLeeway moves the clock around "exp", "nbf" and
// "iat" with the default 30-second leeway and with no leeway.
func TestVerifyTimeClaimsAroundLeeway(t *testing.T) {
	ctx := context.Background()
	const leeway = jwtprovider.DefaultLeeway
	t0 := newClock().Now()
	exp := t0.Add(15 * time.Minute)
	future := t0.Add(time.Hour)
	base := claimsAt(t0)
	hs := jwt.SigningMethodHS256

	tests := []struct {
		name     string
		claims   map[string]any
		now      time.Time
		noLeeway bool
		want     error // nil, auth.ErrTokenExpired, or a cause of invalid_token
	}{
		{"exp: a second before", base, exp.Add(-time.Second), false, nil},
		{"exp: exactly at exp, inside leeway", base, exp, false, nil},
		{"exp: one nanosecond before exp+leeway", base, exp.Add(leeway - 1), false, nil},
		{"exp: exactly at exp+leeway", base, exp.Add(leeway), false, auth.ErrTokenExpired},
		{"exp: a day after", base, exp.Add(24 * time.Hour), false, auth.ErrTokenExpired},
		{"exp: no leeway, one nanosecond before", base, exp.Add(-1), true, nil},
		{"exp: no leeway, exactly at exp", base, exp, true, auth.ErrTokenExpired},
		{"exp: RFC 7515 era token with a real clock", with(base, "exp", 1300819380), t0, false, auth.ErrTokenExpired},

		{"nbf: exactly at nbf-leeway", with(base, "nbf", future.Unix(), "exp", future.Add(time.Hour).Unix()), future.Add(-leeway), false, nil},
		{"nbf: one nanosecond before nbf-leeway", with(base, "nbf", future.Unix(), "exp", future.Add(time.Hour).Unix()), future.Add(-leeway - 1), false, jwtprovider.ErrNotYetValid},
		{"nbf: an hour early", with(base, "nbf", future.Unix(), "exp", future.Add(time.Hour).Unix()), t0, false, jwtprovider.ErrNotYetValid},
		{"nbf: no leeway, exactly at nbf", with(base, "nbf", future.Unix(), "exp", future.Add(time.Hour).Unix()), future, true, nil},
		{"nbf: no leeway, one nanosecond early", with(base, "nbf", future.Unix(), "exp", future.Add(time.Hour).Unix()), future.Add(-1), true, jwtprovider.ErrNotYetValid},
		{"nbf: absent is fine", with(base, "nbf", nil), t0, false, nil},

		{"iat: exactly at iat-leeway", with(base, "nbf", nil, "iat", future.Unix(), "exp", future.Add(time.Hour).Unix()), future.Add(-leeway), false, nil},
		{"iat: one nanosecond before iat-leeway", with(base, "nbf", nil, "iat", future.Unix(), "exp", future.Add(time.Hour).Unix()), future.Add(-leeway - 1), false, jwtprovider.ErrIssuedInFuture},
		{"iat: no leeway, one nanosecond early", with(base, "nbf", nil, "iat", future.Unix(), "exp", future.Add(time.Hour).Unix()), future.Add(-1), true, jwtprovider.ErrIssuedInFuture},
		{"iat: fractional seconds accepted", with(base, "iat", float64(t0.Unix())+0.5), t0.Add(time.Second), false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *jwtprovider.Config) {
				if tc.noLeeway {
					c.Leeway = -1
				}
			})
			tok := forge(t, hsHeader(), tc.claims, hs, hmacSecret)
			f.clock.Set(tc.now)
			_, err := f.p.Verify(ctx, tok)
			switch {
			case tc.want == nil:
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
			case tc.want == auth.ErrTokenExpired:
				if !errors.Is(err, auth.ErrTokenExpired) || !errors.Is(err, jwtprovider.ErrExpired) {
					t.Fatalf("Verify error %v, want token_expired", err)
				}
				if n := len(f.events.of(auth.EventTokenExpired)); n != 1 {
					t.Fatalf("%d token_expired events, want 1", n)
				}
			default:
				if !errors.Is(err, auth.ErrInvalidToken) || !errors.Is(err, tc.want) {
					t.Fatalf("Verify error %v, want invalid_token caused by %v", err, tc.want)
				}
			}
		})
	}
}

// TestVerifyExpiredButForgedIsInvalid checks that expiry is only reported
// for tokens that are otherwise genuine.
func TestVerifyExpiredButForgedIsInvalid(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	expired := with(claimsAt(f.clock.Now()), "exp", f.clock.Now().Add(-time.Hour).Unix())
	for _, tc := range []struct {
		name  string
		token string
		cause error
	}{
		{"expired with a bad signature", forge(t, hsHeader(), expired, jwt.SigningMethodHS256, []byte("wrong-secret-wrong-secret-wrong-secret")), jwtprovider.ErrSignature},
		{"expired with alg none", forge(t, with(hsHeader(), "alg", "none"), expired, nil, nil), jwtprovider.ErrAlgorithm},
		{"expired from a look-alike issuer", forge(t, hsHeader(), with(expired, "iss", testIssuer+"/"), jwt.SigningMethodHS256, hmacSecret), jwtprovider.ErrIssuer},
		{"expired refresh token presented as access token", forge(t, with(hsHeader(), "typ", "refresh+jwt"), expired, jwt.SigningMethodHS256, hmacSecret), jwtprovider.ErrTokenType},
		{"expired for another audience", forge(t, hsHeader(), with(expired, "aud", "billing-api"), jwt.SigningMethodHS256, hmacSecret), jwtprovider.ErrAudience},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.p.Verify(ctx, tc.token)
			if errors.Is(err, auth.ErrTokenExpired) || !errors.Is(err, auth.ErrInvalidToken) || !errors.Is(err, tc.cause) {
				t.Fatalf("Verify error %v, want invalid_token caused by %v", err, tc.cause)
			}
		})
	}
	if n := len(f.events.of(auth.EventTokenExpired)); n != 0 {
		t.Fatalf("%d token_expired events for forged tokens, want 0", n)
	}
}

func TestVerifyAcceptsAudienceForms(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *jwtprovider.Config) { c.Audience = []string{testAudience, "steelplant-admin"} })
	claims := claimsAt(f.clock.Now())
	for _, tc := range []struct {
		name string
		aud  any
		want []string
	}{
		{"aud as our string", testAudience, []string{testAudience}},
		{"aud as our second audience", "steelplant-admin", []string{"steelplant-admin"}},
		{"aud as a one-element array", []string{testAudience}, []string{testAudience}},
		{"aud as an array with ours among others", []string{"billing-api", testAudience}, []string{"billing-api", testAudience}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.p.Verify(ctx, forge(t, hsHeader(), with(claims, "aud", tc.aud), jwt.SigningMethodHS256, hmacSecret))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if fmt.Sprint(c.Audience) != fmt.Sprint(tc.want) {
				t.Fatalf("Audience = %v, want %v", c.Audience, tc.want)
			}
		})
	}
}

func TestVerifyAcceptsTypSpellings(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	for _, typ := range []string{"at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"} {
		t.Run(typ, func(t *testing.T) {
			c, err := f.p.Verify(ctx, forge(t, with(hsHeader(), "typ", typ), claimsAt(f.clock.Now()), jwt.SigningMethodHS256, hmacSecret))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Type != jwtprovider.AccessToken {
				t.Fatalf("Type = %q", c.Type)
			}
		})
	}
	for _, typ := range []string{"application/at+jwt; x=1", "at+jwt ", "xapplication/at+jwt", "application/"} {
		t.Run("rejected "+typ, func(t *testing.T) {
			_, err := f.p.Verify(ctx, forge(t, with(hsHeader(), "typ", typ), claimsAt(f.clock.Now()), jwt.SigningMethodHS256, hmacSecret))
			if !errors.Is(err, jwtprovider.ErrTokenType) {
				t.Fatalf("Verify error %v, want ErrTokenType", err)
			}
		})
	}
}

// TestVerifyCustomValidators requires a "department" claim and a
// "security_clearance" of at least 2.
func TestVerifyCustomValidators(t *testing.T) {
	ctx := context.Background()
	errDepartment := errors.New("department required")
	errClearance := errors.New("security_clearance of at least 2 required")
	f := newFixture(t, func(c *jwtprovider.Config) {
		c.RequiredClaims = []string{"department"}
		c.Validators = []jwtprovider.Validator{
			func(c *jwtprovider.Claims) error {
				if d, _ := c.Custom["department"].(string); d == "" {
					return errDepartment
				}
				return nil
			},
			func(c *jwtprovider.Claims) error {
				if lvl, _ := c.Custom["security_clearance"].(float64); lvl < 2 {
					return errClearance
				}
				return nil
			},
		}
	})
	claims := claimsAt(f.clock.Now())
	for _, tc := range []struct {
		name  string
		extra []any
		want  error
	}{
		{"department and clearance 2", []any{"department", "rolling-mill", "security_clearance", 2}, nil},
		{"clearance 3", []any{"department", "rolling-mill", "security_clearance", 3}, nil},
		{"department missing", []any{"security_clearance", 5}, jwtprovider.ErrMissingClaim},
		{"department empty", []any{"department", "", "security_clearance", 5}, errDepartment},
		{"department not a string", []any{"department", 7, "security_clearance", 5}, errDepartment},
		{"clearance 1", []any{"department", "rolling-mill", "security_clearance", 1}, errClearance},
		{"clearance as a string", []any{"department", "rolling-mill", "security_clearance", "9"}, errClearance},
		{"clearance missing", []any{"department", "rolling-mill"}, errClearance},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.p.Verify(ctx, forge(t, hsHeader(), with(claims, tc.extra...), jwt.SigningMethodHS256, hmacSecret))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Custom["department"] != "rolling-mill" {
					t.Fatalf("Custom = %v", c.Custom)
				}
				return
			}
			if !errors.Is(err, auth.ErrInvalidToken) || !errors.Is(err, tc.want) {
				t.Fatalf("Verify error %v, want invalid_token caused by %v", err, tc.want)
			}
			if tc.want != jwtprovider.ErrMissingClaim && !errors.Is(err, jwtprovider.ErrClaimRejected) {
				t.Fatalf("Verify error %v does not wrap ErrClaimRejected", err)
			}
		})
	}
}

func TestVerifyRequiredClaims(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *jwtprovider.Config) { c.RequiredClaims = []string{"client_id", "scope", "nbf"} })
	full := with(claimsAt(f.clock.Now()), "client_id", "mill-dashboard", "scope", "")
	if _, err := f.p.Verify(ctx, forge(t, hsHeader(), full, jwt.SigningMethodHS256, hmacSecret)); err != nil {
		t.Fatalf("all required claims present (scope empty): %v", err)
	}
	for _, missing := range []string{"client_id", "scope", "nbf"} {
		t.Run(missing+" missing", func(t *testing.T) {
			_, err := f.p.Verify(ctx, forge(t, hsHeader(), with(full, missing, nil), jwt.SigningMethodHS256, hmacSecret))
			if !errors.Is(err, jwtprovider.ErrMissingClaim) {
				t.Fatalf("Verify error %v, want ErrMissingClaim", err)
			}
		})
	}
}
