package ratelimit_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gatehouse-auth/gatehouse/ratelimit"
)

// A client behind the service's load balancer tries to escape its limit by
// sending a forged X-Forwarded-For: the resolver reads only the hop the
// trusted proxy appended, so the forgery changes nothing.
func ExampleMiddleware() {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	limiter, err := ratelimit.NewMemoryLimiter(ratelimit.MemoryConfig{
		Limit:  2,
		Period: time.Minute,
		Now:    func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	resolver, err := ratelimit.NewIPResolver(ratelimit.IPResolverConfig{TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		log.Fatal(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	h := resolver.Middleware(ratelimit.Middleware(limiter, ratelimit.ByClientIP)(api))

	for _, forged := range []string{"", "198.51.100.1, ", "198.51.100.2, "} {
		r := httptest.NewRequest("GET", "/api/v1/alerts", nil)
		r.RemoteAddr = "10.0.0.5:41000"                       // the load balancer
		r.Header.Set("X-Forwarded-For", forged+"203.0.113.7") // it appended the real client
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%d remaining=%s retry-after=%s\n", w.Code, w.Header().Get("X-RateLimit-Remaining"), w.Header().Get("Retry-After"))
	}
	// Output:
	// 200 remaining=1 retry-after=
	// 200 remaining=0 retry-after=
	// 429 remaining=0 retry-after=30
}

// A login handler reserves an attempt before it checks the password, and
// reports success to clear the failures.
func ExampleAttemptsLimiter() {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	attempts, err := ratelimit.NewAttemptsLimiter(ratelimit.AttemptsConfig{Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	login := func(password string) {
		d, err := attempts.Attempt(ctx, "user:alice")
		if err != nil {
			fmt.Println("store down: refuse with 503")
			return
		}
		if !d.Allowed {
			fmt.Printf("denied, locked=%v, retry after %v\n", d.Locked, d.RetryAfter)
			return
		}
		if password != "correct horse" {
			fmt.Printf("wrong password, failure %d\n", d.Failures)
			return
		}
		if err := attempts.Success(ctx, "user:alice"); err != nil {
			log.Print(err)
		}
		fmt.Println("signed in")
	}
	login("guess1")
	login("guess2") // too soon: 1s delay after the first failure
	now = now.Add(time.Second)
	login("guess2")
	now = now.Add(2 * time.Second)
	login("correct horse")
	// Output:
	// wrong password, failure 1
	// denied, locked=false, retry after 1s
	// wrong password, failure 2
	// signed in
}
