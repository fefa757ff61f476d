package basic

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// BreachChecker reports whether a password is known from data breaches.
// Implementations must be safe for concurrent use and must return an error,
// never false, when they could not find out.
type BreachChecker interface {
	Breached(ctx context.Context, password string) (bool, error)
}

// BreachCheckerFunc adapts a function to [BreachChecker].
type BreachCheckerFunc func(ctx context.Context, password string) (bool, error)

// Breached calls f(ctx, password).
func (f BreachCheckerFunc) Breached(ctx context.Context, password string) (bool, error) {
	return f(ctx, password)
}

// DefaultHIBPBaseURL is the Have I Been Pwned Pwned Passwords API.
const DefaultHIBPBaseURL = "https://api.pwnedpasswords.com"

// maxHIBPResponse caps the body read from the range API. A padded answer is
// a few tens of kilobytes.
const maxHIBPResponse = 4 << 20

// HIBPConfig configures an [HIBP] checker. The zero value queries the public
// API with a 5-second timeout.
type HIBPConfig struct {
	// HTTPClient sends the requests. Nil means a client with a 5-second
	// timeout.
	HTTPClient *http.Client
	// BaseURL is the API root; the checker requests BaseURL + "/range/" +
	// prefix. Empty means [DefaultHIBPBaseURL]. It must be an https URL.
	BaseURL string
	// UserAgent is sent with every request. Empty means "gatehouse".
	UserAgent string
	// MinCount is how many times a password must have been seen to count as
	// breached. Zero means 1.
	MinCount int
}

// HIBP checks passwords against the Have I Been Pwned Pwned Passwords range
// API with k-anonymity: only the first 5 hexadecimal characters of the
// password's SHA-1 leave the process, the suffix is compared locally, and
// every request asks for padding ("Add-Padding: true") so that the response
// size reveals nothing either. It is safe for concurrent use.
type HIBP struct {
	client    *http.Client
	base      string
	userAgent string
	minCount  int
}

var _ BreachChecker = (*HIBP)(nil)

// NewHIBP validates cfg and returns the checker. It returns an error wrapping
// [ErrInvalidConfig] for a BaseURL that is not an absolute https URL or a
// negative MinCount.
func NewHIBP(cfg HIBPConfig) (*HIBP, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultHIBPBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: HIBP BaseURL must be an absolute https URL", ErrInvalidConfig)
	}
	if cfg.MinCount < 0 {
		return nil, fmt.Errorf("%w: negative MinCount", ErrInvalidConfig)
	}
	if cfg.MinCount == 0 {
		cfg.MinCount = 1
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "gatehouse"
	}
	return &HIBP{
		client:    cfg.HTTPClient,
		base:      strings.TrimRight(cfg.BaseURL, "/"),
		userAgent: cfg.UserAgent,
		minCount:  cfg.MinCount,
	}, nil
}

// errHIBP marks failures of the range API.
var errHIBP = errors.New("basic: hibp range API")

// Breached implements [BreachChecker]. Any failure (network, status other
// than 200, malformed or oversized body) is an error.
func (h *HIBP) Breached(ctx context.Context, password string) (bool, error) {
	sum := sha1.Sum([]byte(password))
	digest := strings.ToUpper(hex.EncodeToString(sum[:]))
	prefix, suffix := digest[:5], digest[5:]

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/range/"+prefix, nil)
	if err != nil {
		return false, fmt.Errorf("%w: %v", errHIBP, err)
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", h.userAgent)
	resp, err := h.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("%w: %w", errHIBP, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%w: status %d", errHIBP, resp.StatusCode)
	}
	body := io.LimitReader(resp.Body, maxHIBPResponse+1)
	counted := &countingReader{r: body}
	sc := bufio.NewScanner(counted)
	found := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		s, c, ok := strings.Cut(line, ":")
		if !ok || len(s) != 35 {
			return false, fmt.Errorf("%w: malformed line", errHIBP)
		}
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return false, fmt.Errorf("%w: malformed count", errHIBP)
		}
		if strings.EqualFold(s, suffix) && n >= h.minCount {
			found = true
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("%w: %w", errHIBP, err)
	}
	if counted.n > maxHIBPResponse {
		return false, fmt.Errorf("%w: response larger than %d bytes", errHIBP, maxHIBPResponse)
	}
	return found, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
