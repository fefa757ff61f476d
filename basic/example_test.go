package basic_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// An API protected by HTTP Basic, and a password-guessing attack against it:
// after three wrong guesses the account is locked, and the right password
// gets the same 429 as a wrong one until the lock ends.
func Example() {
	ctx := context.Background()
	// Cheap hashes keep the example fast; never use InsecureLowCost outside
	// tests. Production code leaves Hasher nil (Argon2id, 19 MiB).
	hasher, _ := basic.NewHasher(basic.HasherConfig{
		Argon2id:        basic.Argon2idParams{Memory: 64, Iterations: 1},
		InsecureLowCost: true,
	})
	lockout, _ := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{
		MaxFailures: 3,
		Delays:      []time.Duration{0}, // no progressive delays, to keep the output short
	})
	users, err := basic.New(basic.Config{Hasher: hasher, Lockout: lockout})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := users.Create(ctx, basic.NewUser{Username: "operator_001", Password: "operator_001!", Roles: []string{"operator"}}); err != nil {
		var pe *basic.PolicyError
		if errors.As(err, &pe) {
			fmt.Println("refused:", pe.Violations[0].Code, pe.Violations[1].Code)
		}
	}
	if _, err := users.Create(ctx, basic.NewUser{Username: "operator_001", Password: "ladle furnace tundish 7", Roles: []string{"operator"}}); err != nil {
		fmt.Println(err)
		return
	}

	basicAuth, _ := basic.NewAuthenticator(users, basic.AuthenticatorConfig{Realm: "steelplant"})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		fmt.Fprintf(w, "alerts for %s (%s)", p.Username, p.Method)
	})
	srv := httptest.NewServer(middleware.Authenticate(
		[]auth.Authenticator{basicAuth},
		middleware.WithErrorHandler(basicAuth.ErrorHandler(nil)),
	)(api))
	defer srv.Close()

	get := func(user, pass string) {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/alerts", nil)
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s/%s -> %d %s", user, pass, resp.StatusCode, strings.TrimSpace(string(body)))
		if c := resp.Header.Values("WWW-Authenticate"); len(c) > 0 {
			fmt.Printf(" [challenge %s]", c[len(c)-1])
		}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			fmt.Printf(" [retry after %ss]", ra)
		}
		fmt.Println()
	}
	get("operator_001", "ladle furnace tundish 7")
	get("operator_001", "guess-1")
	get("operator_001", "guess-2")
	get("operator_001", "guess-3")
	get("operator_001", "ladle furnace tundish 7")
	get("no_such_user", "guess-1")
	// Output:
	// refused: common_password contains_username
	// operator_001/ladle furnace tundish 7 -> 200 alerts for operator_001 (basic)
	// operator_001/guess-1 -> 401 {"error":"invalid_credentials","error_description":"invalid username or password"} [challenge Basic realm="steelplant", charset="UTF-8"]
	// operator_001/guess-2 -> 401 {"error":"invalid_credentials","error_description":"invalid username or password"} [challenge Basic realm="steelplant", charset="UTF-8"]
	// operator_001/guess-3 -> 429 {"error":"account_locked","error_description":"too many failed attempts; the account is temporarily locked"} [retry after 900s]
	// operator_001/ladle furnace tundish 7 -> 429 {"error":"account_locked","error_description":"too many failed attempts; the account is temporarily locked"} [retry after 900s]
	// no_such_user/guess-1 -> 401 {"error":"invalid_credentials","error_description":"invalid username or password"} [challenge Basic realm="steelplant", charset="UTF-8"]
}

// Validate reports every violation at once, with client-safe codes and
// messages for the password_policy error body.
func ExamplePasswordPolicy_Validate() {
	policy, _ := basic.NewPasswordPolicy(basic.PolicyConfig{ContextWords: []string{"steelplant"}})
	owner := basic.PasswordOwner{Username: "engineer_001", Email: "erika@example.com"}
	for _, pw := range []string{"Steelplant1", "erika-2031-xxyz", "ladle furnace tundish 7"} {
		err := policy.Validate(context.Background(), pw, owner)
		var pe *basic.PolicyError
		if errors.As(err, &pe) {
			for _, v := range pe.Violations {
				fmt.Printf("%q: %s (%s)\n", pw, v.Code, v.Message)
			}
			continue
		}
		fmt.Printf("%q: ok\n", pw)
	}
	// Output:
	// "Steelplant1": too_short (use at least 12 characters)
	// "Steelplant1": contains_context_word (the password must not contain the name of this service)
	// "erika-2031-xxyz": contains_email (the password must not contain the email address)
	// "ladle furnace tundish 7": ok
}
