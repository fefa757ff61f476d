package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CORSConfig configures [CORS]. Origins are matched exactly; there is no
// pattern or suffix matching.
type CORSConfig struct {
	// AllowedOrigins lists the origins ("https://dashboard.plant.example",
	// scheme://host[:port], no path) whose pages may call the API. "*" allows
	// any origin and is refused together with AllowCredentials. The "null"
	// origin (sandboxed documents, file: URLs) is refused.
	AllowedOrigins []string
	// AllowedMethods lists the methods a preflight may approve. Empty means
	// GET, HEAD, POST, PUT, PATCH, DELETE.
	AllowedMethods []string
	// AllowedHeaders lists the request headers a preflight may approve,
	// case-insensitively. Empty means Authorization, Content-Type, X-API-Key,
	// X-Request-ID.
	AllowedHeaders []string
	// ExposedHeaders lists response headers scripts may read. Empty means
	// X-Request-ID, the X-RateLimit-* headers and Retry-After.
	ExposedHeaders []string
	// AllowCredentials lets browsers send cookies and read responses to
	// credentialed requests. It requires explicit origins.
	AllowCredentials bool
	// MaxAge is how long a browser may cache a preflight result. Zero means
	// 10 minutes; browsers cap it themselves (2 hours in Chromium).
	MaxAge time.Duration
}

// CORS returns a middleware implementing the CORS protocol of the WHATWG
// Fetch standard for cfg. Requests from allowed origins get
// Access-Control-Allow-Origin echoing their origin (or "*" for a wildcard
// without credentials) and Vary: Origin; requests from other origins pass
// through with no CORS headers, so browsers withhold the response from the
// calling page. Preflight requests (OPTIONS with Origin and
// Access-Control-Request-Method) are answered here with 204 and never reach
// the wrapped handler; a preflight asking for a method or header that is not
// allowed gets no CORS headers and fails in the browser.
//
// CORS does not authenticate or protect anything by itself: it only relaxes
// the browser's same-origin policy for the listed origins.
func CORS(cfg CORSConfig) (func(http.Handler) http.Handler, error) {
	c, err := newCORS(cfg)
	if err != nil {
		return nil, err
	}
	return c.handler, nil
}

type cors struct {
	origins     map[string]bool
	any         bool
	credentials bool
	methods     []string
	headers     map[string]bool
	exposed     string
	maxAge      string
}

func newCORS(cfg CORSConfig) (*cors, error) {
	c := &cors{origins: map[string]bool{}, headers: map[string]bool{}, credentials: cfg.AllowCredentials}
	for _, o := range cfg.AllowedOrigins {
		if o == "*" {
			c.any = true
			continue
		}
		if err := validOrigin(o); err != nil {
			return nil, err
		}
		c.origins[strings.ToLower(o)] = true
	}
	if c.any && c.credentials {
		return nil, errors.New("middleware: CORS: wildcard origin with credentials is not allowed")
	}
	c.methods = cfg.AllowedMethods
	if len(c.methods) == 0 {
		c.methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
	}
	hs := cfg.AllowedHeaders
	if len(hs) == 0 {
		hs = []string{"Authorization", "Content-Type", "X-API-Key", "X-Request-ID"}
	}
	for _, h := range hs {
		c.headers[strings.ToLower(h)] = true
	}
	ex := cfg.ExposedHeaders
	if len(ex) == 0 {
		ex = []string{"X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"}
	}
	c.exposed = strings.Join(ex, ", ")
	age := cfg.MaxAge
	if age <= 0 {
		age = 10 * time.Minute
	}
	c.maxAge = strconv.FormatInt(int64(age/time.Second), 10)
	return c, nil
}

func validOrigin(o string) error {
	if o == "null" {
		return errors.New(`middleware: CORS: the "null" origin cannot be allowed`)
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("middleware: CORS: %q is not an origin (scheme://host[:port])", o)
	}
	return nil
}

func (c *cors) allowed(origin string) bool {
	return c.any || c.origins[strings.ToLower(origin)]
}

func (c *cors) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		if !c.any {
			h.Add("Vary", "Origin")
		}
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if origin != "" && c.allowed(origin) && c.preflightOK(r) {
				c.setOrigin(h, origin)
				h.Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
				if reqH := r.Header.Get("Access-Control-Request-Headers"); reqH != "" {
					h.Set("Access-Control-Allow-Headers", reqH)
				}
				h.Set("Access-Control-Max-Age", c.maxAge)
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if origin != "" && c.allowed(origin) {
			c.setOrigin(h, origin)
			h.Set("Access-Control-Expose-Headers", c.exposed)
		}
		next.ServeHTTP(w, r)
	})
}

func (c *cors) setOrigin(h http.Header, origin string) {
	if c.any && !c.credentials {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if c.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// preflightOK checks the requested method (case-sensitive, as Fetch compares
// methods byte for byte after normalising the six standard ones) and every
// requested header.
func (c *cors) preflightOK(r *http.Request) bool {
	m := r.Header.Get("Access-Control-Request-Method")
	if !slices.Contains(c.methods, m) {
		return false
	}
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for _, name := range strings.Split(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			if !c.headers[name] {
				return false
			}
		}
	}
	return true
}
