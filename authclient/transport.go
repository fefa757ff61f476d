package authclient

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// transport is the http.RoundTripper of a Client. It is safe for concurrent
// use; its state lives in the Client.
type transport struct{ c *Client }

// maxPeek caps how much of a 401 body is read to find its error code.
const maxPeek = 4 << 10

// RoundTrip sends req with the client's credential when req goes to a
// trusted origin and carries no Authorization or X-API-Key header of its
// own. It renews the token pair once when the server answers 401 for it, and
// retries idempotent requests answered with 429 or 503 (see the package
// documentation). It does not modify req.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	mayRetry := replayable && idempotent(req)
	attach := c.trusted(req.URL) &&
		req.Header.Get("Authorization") == "" && req.Header.Get("X-API-Key") == ""
	withKey := attach && c.apiKey != ""
	withToken := attach && c.apiKey == ""

	body := req.Body
	attempt, renewed := 1, false
	for {
		out := req.Clone(ctx)
		out.Body = body
		var tok tokenState
		switch {
		case withKey:
			out.Header.Set("X-API-Key", c.apiKey)
		case withToken:
			var err error
			if tok, err = c.accessToken(ctx); err != nil {
				closeBody(body)
				return nil, err
			}
			out.Header.Set("Authorization", "Bearer "+tok.access)
		}
		resp, err := c.baseRT.RoundTrip(out)
		if err != nil {
			return nil, err
		}

		if withToken && !renewed && resp.StatusCode == http.StatusUnauthorized {
			code := peekErrorCode(resp)
			relogin := code == string(auth.CodeInvalidToken) || code == string(auth.CodeTokenRevoked)
			if code == string(auth.CodeTokenExpired) || relogin {
				renewed = true
				if !replayable {
					// The request cannot be sent again: renew for the
					// requests that follow and hand this answer back.
					_, _ = c.renew(ctx, tok.gen, relogin)
					return resp, nil
				}
				drainClose(resp.Body)
				if _, err := c.renew(ctx, tok.gen, relogin); err != nil {
					return nil, err
				}
				if body, err = replayBody(req); err != nil {
					return nil, err
				}
				continue
			}
		}

		if mayRetry && retryableStatus(resp.StatusCode) && attempt < c.retry.MaxAttempts {
			if wait, ok := c.retryWait(resp, attempt); ok {
				drainClose(resp.Body)
				if err := sleep(ctx, wait); err != nil {
					return nil, err
				}
				attempt++
				if body, err = replayBody(req); err != nil {
					return nil, err
				}
				continue
			}
		}
		return resp, nil
	}
}

// retryWait returns how long to wait before retry number n: the
// Retry-After the server asked for, or the policy's backoff. ok is false
// when the server asked for more than MaxDelay.
func (c *Client) retryWait(resp *http.Response, n int) (d time.Duration, ok bool) {
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
		return d, d <= c.retry.MaxDelay
	}
	return c.retry.backoff(n), true
}

// replayBody returns a fresh copy of req's body for another attempt.
func replayBody(req *http.Request) (io.ReadCloser, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req.Body, nil
	}
	return req.GetBody()
}

func closeBody(b io.ReadCloser) {
	if b != nil {
		_ = b.Close()
	}
}

// peekErrorCode returns the "error" member of resp's JSON body, reading at
// most maxPeek bytes and leaving the body readable from its start.
func peekErrorCode(resp *http.Response) string {
	buf, err := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
	resp.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(buf), resp.Body), Closer: resp.Body}
	if err != nil {
		return ""
	}
	var eb struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(buf, &eb) != nil {
		return ""
	}
	return eb.Error
}

// peekedBody is a response body of which the start was read and is served
// again before the rest.
type peekedBody struct {
	io.Reader
	io.Closer
}
