package basic_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/basic"
)

// rangeAPI is a local stand-in for the Pwned Passwords range API: it knows a
// few passwords, answers GET /range/{5 hex} with "SUFFIX:COUNT" lines, and
// pads with count-0 entries when asked to.
type rangeAPI struct {
	mu       sync.Mutex // guards requests
	requests []*http.Request
	known    map[string]int // full upper-case SHA-1 hex -> count
	status   int            // when non-zero, answer with it
	body     string         // when non-empty, answer with it
}

func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func (a *rangeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests = append(a.requests, r.Clone(context.Background()))
	a.mu.Unlock()
	if a.status != 0 {
		w.WriteHeader(a.status)
		return
	}
	if a.body != "" {
		fmt.Fprint(w, a.body)
		return
	}
	prefix, ok := strings.CutPrefix(r.URL.Path, "/range/")
	if r.Method != http.MethodGet || !ok || len(prefix) != 5 || strings.ToUpper(prefix) != prefix {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	for full, n := range a.known {
		if strings.HasPrefix(full, prefix) {
			fmt.Fprintf(w, "%s:%d\r\n", full[5:], n)
		}
	}
	fmt.Fprintf(w, "%s:%d\r\n", strings.Repeat("0", 35), 3)
	if r.Header.Get("Add-Padding") == "true" {
		for i := range 200 {
			fmt.Fprintf(w, "%035X:0\r\n", i+1)
		}
	}
}

func newRangeServer(t *testing.T, api *rangeAPI) (*basic.HIBP, *httptest.Server) {
	t.Helper()
	srv := httptest.NewTLSServer(api)
	t.Cleanup(srv.Close)
	h, err := basic.NewHIBP(basic.HIBPConfig{HTTPClient: srv.Client(), BaseURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	return h, srv
}

func TestHIBPRangeAPI(t *testing.T) {
	api := &rangeAPI{known: map[string]int{
		sha1Hex("P@ssw0rd-from-a-breach"): 51234,
		sha1Hex("padding-collision-pw"):   0,
	}}
	h, _ := newRangeServer(t, api)
	ctx := context.Background()

	tests := []struct {
		pw   string
		want bool
	}{
		{"P@ssw0rd-from-a-breach", true},
		{"amber falcon quarry 58", false},
		// A count of 0 is padding, not a breach.
		{"padding-collision-pw", false},
	}
	for _, tc := range tests {
		got, err := h.Breached(ctx, tc.pw)
		if err != nil || got != tc.want {
			t.Fatalf("Breached(%q) = %v, %v; want %v", tc.pw, got, err, tc.want)
		}
	}
	// Only the 5-character prefix left the process, with the padding header.
	for i, r := range api.requests {
		full := sha1Hex(tests[i].pw)
		if r.URL.Path != "/range/"+full[:5] || r.URL.RawQuery != "" {
			t.Fatalf("request %d went to %q", i, r.URL)
		}
		if r.Header.Get("Add-Padding") != "true" || r.Header.Get("User-Agent") == "" {
			t.Fatalf("request %d headers: %v", i, r.Header)
		}
		for _, v := range r.Header {
			for _, s := range v {
				if strings.Contains(strings.ToUpper(s), full[5:15]) || strings.Contains(s, tests[i].pw) {
					t.Fatalf("request %d leaks more than the prefix in a header", i)
				}
			}
		}
	}
}

func TestHIBPMinCount(t *testing.T) {
	api := &rangeAPI{known: map[string]int{sha1Hex("rarely-seen-password"): 2}}
	srv := httptest.NewTLSServer(api)
	defer srv.Close()
	h, err := basic.NewHIBP(basic.HIBPConfig{HTTPClient: srv.Client(), BaseURL: srv.URL, MinCount: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := h.Breached(context.Background(), "rarely-seen-password"); err != nil || got {
		t.Fatalf("seen twice with MinCount 3: %v, %v", got, err)
	}
}

func TestHIBPFailuresAreErrors(t *testing.T) {
	tests := []struct {
		name string
		api  *rangeAPI
	}{
		{"server error", &rangeAPI{status: http.StatusInternalServerError}},
		{"rate limited by the API", &rangeAPI{status: http.StatusTooManyRequests}},
		{"html instead of the range format", &rangeAPI{body: "<html>maintenance</html>\n"}},
		{"negative count", &rangeAPI{body: strings.Repeat("A", 35) + ":-1\n"}},
		{"suffix of the wrong length", &rangeAPI{body: "ABC:3\n"}},
		{"body over 4 MiB", &rangeAPI{body: strings.Repeat(strings.Repeat("B", 35)+":1\n", (4<<20)/38+10)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newRangeServer(t, tc.api)
			got, err := h.Breached(context.Background(), "anything at all")
			if err == nil || got {
				t.Fatalf("Breached = %v, %v; want an error", got, err)
			}
		})
	}
	t.Run("unreachable server", func(t *testing.T) {
		h, srv := newRangeServer(t, &rangeAPI{})
		srv.Close()
		got, err := h.Breached(context.Background(), "anything at all")
		if err == nil || got {
			t.Fatalf("Breached against a closed server = %v, %v; want an error", got, err)
		}
		// Through the policy: reported, never "not breached".
		p := mustPolicy(t, basic.PolicyConfig{Breach: h})
		if err := p.Validate(context.Background(), "amber falcon quarry 58", basic.PasswordOwner{}); !errors.Is(err, basic.ErrBreachCheck) {
			t.Fatalf("Validate with an unreachable checker = %v, want ErrBreachCheck", err)
		}
	})
}

func TestHIBPConfig(t *testing.T) {
	for _, base := range []string{"http://api.pwnedpasswords.com", "ftp://x", "https://", "https://x/?q=1", "::"} {
		if _, err := basic.NewHIBP(basic.HIBPConfig{BaseURL: base}); !errors.Is(err, basic.ErrInvalidConfig) {
			t.Errorf("NewHIBP(BaseURL %q) = %v, want ErrInvalidConfig", base, err)
		}
	}
	if _, err := basic.NewHIBP(basic.HIBPConfig{}); err != nil {
		t.Errorf("zero config: %v", err)
	}
	if _, err := basic.NewHIBP(basic.HIBPConfig{MinCount: -1}); !errors.Is(err, basic.ErrInvalidConfig) {
		t.Errorf("negative MinCount: %v", err)
	}
}
