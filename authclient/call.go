package authclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// maxResponseBody caps the body of a typed call's response.
const maxResponseBody = 1 << 20

// emptyObject is the body of POST routes that take no input: the API
// accepts JSON bodies only, and {} is the empty one.
var emptyObject = struct{}{}

// call sends an authenticated JSON request to path under the base URL and
// decodes a 2xx answer into out (when out is not nil and the body is not
// empty). Any other answer is returned as an *Error. Redirects are not
// followed.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	return c.callWith(ctx, "", method, path, in, out)
}

// callWith is call authenticated with the given access token instead of the
// client's credential, when access is not empty.
func (c *Client) callWith(ctx context.Context, access, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("authclient: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path), body)
	if err != nil {
		return fmt.Errorf("authclient: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	resp, err := c.api.Do(req)
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e, _ := readError(resp, c.now())
		return e
	}
	if out == nil {
		return nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return fmt.Errorf("authclient: %s %s: reading the response: %w", method, path, err)
	}
	if len(raw) > maxResponseBody {
		return fmt.Errorf("authclient: %s %s: response larger than %d bytes", method, path, maxResponseBody)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("authclient: %s %s: decoding the response: %w", method, path, err)
	}
	return nil
}

// decodeList decodes a list answered either as a bare JSON array or as an
// object holding the array under key.
func decodeList[T any](raw json.RawMessage, key string) ([]T, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	var list []T
	if raw[0] == '[' {
		err := json.Unmarshal(raw, &list)
		return list, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	inner, ok := obj[key]
	if !ok {
		return nil, fmt.Errorf("no %q member", key)
	}
	if err := json.Unmarshal(inner, &list); err != nil {
		return nil, err
	}
	return list, nil
}
