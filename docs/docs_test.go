package docs_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/docs"
)

const errorRef = "#/components/schemas/Error"

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// routes is the contract of DESIGN.md §4: the document must hold exactly
// these operations.
var routes = []string{
	"POST /login", "POST /login/mfa", "POST /refresh", "GET /me", "GET /token/info",
	"POST /revoke", "POST /revoke-all",
	"GET /api-keys", "POST /api-keys", "GET /api-keys/{id}", "DELETE /api-keys/{id}", "POST /api-keys/{id}/rotate",
	"POST /mfa/setup", "POST /mfa/verify", "POST /mfa/disable",
	"POST /password/change", "POST /password/forgot", "POST /password/reset",
	"GET /sessions", "DELETE /sessions/{id}",
	"GET /users", "POST /users", "GET /users/{id}", "PATCH /users/{id}", "DELETE /users/{id}",
	"GET /openapi.json",
}

// rateLimited lists the routes that document X-RateLimit-* and a 429.
var rateLimited = []string{
	"POST /login", "POST /login/mfa", "POST /refresh",
	"POST /mfa/setup", "POST /mfa/verify", "POST /mfa/disable",
	"POST /password/change", "POST /password/forgot", "POST /password/reset",
}

// public lists the routes that need no credential (security: []).
var public = []string{
	"POST /login", "POST /login/mfa", "POST /refresh", "POST /revoke",
	"POST /password/forgot", "POST /password/reset", "GET /openapi.json",
}

type obj = map[string]any

func load(t *testing.T) obj {
	t.Helper()
	b, err := docs.OpenAPIJSON()
	if err != nil {
		t.Fatalf("OpenAPIJSON: %v", err)
	}
	var d obj
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("OpenAPIJSON output does not parse: %v", err)
	}
	return d
}

// resolve follows a local JSON pointer such as "#/components/schemas/Error".
func resolve(doc obj, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/components/") {
		return nil, fmt.Errorf("$ref %q is not a local #/components/ reference", ref)
	}
	var cur any = doc
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(obj)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not inside an object", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("$ref %q: no member %q", ref, tok)
		}
	}
	return cur, nil
}

// deref resolves v when it is a Reference Object, repeatedly.
func deref(t *testing.T, doc obj, v any) obj {
	t.Helper()
	for range 10 {
		m, ok := v.(obj)
		if !ok {
			t.Fatalf("expected an object, got %T", v)
		}
		r, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		var err error
		if v, err = resolve(doc, r); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("$ref chain too long")
	return nil
}

// eachOperation calls f for every operation of the document.
func eachOperation(t *testing.T, doc obj, f func(route string, pathItem, op obj)) {
	t.Helper()
	paths, ok := doc["paths"].(obj)
	if !ok || len(paths) == 0 {
		t.Fatal("no paths")
	}
	for _, p := range slices.Sorted(mapKeys(paths)) {
		item := paths[p].(obj)
		for k := range item {
			if k != "parameters" && k != "summary" && k != "description" && !slices.Contains(methods, k) {
				t.Errorf("%s: unexpected path item member %q", p, k)
			}
		}
		for _, m := range methods {
			if op, ok := item[m].(obj); ok {
				f(strings.ToUpper(m)+" "+p, item, op)
			}
		}
	}
}

func mapKeys(m obj) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestParses(t *testing.T) {
	b, err := docs.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(b, "\n\t") {
		t.Error("OpenAPIJSON is not compact")
	}
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var fromFile, fromFunc any
	if err := json.Unmarshal(raw, &fromFile); err != nil {
		t.Fatalf("openapi.yaml is not JSON (it must stay in the JSON subset of YAML): %v", err)
	}
	if err := json.Unmarshal(b, &fromFunc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromFile, fromFunc) {
		t.Error("OpenAPIJSON differs from openapi.yaml")
	}
	// The file keeps one layout: two-space indentation, as json.Indent
	// writes it, so that diffs stay small and readable.
	var want bytes.Buffer
	if err := json.Indent(&want, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	want.WriteByte('\n')
	if !bytes.Equal(raw, want.Bytes()) {
		t.Error("openapi.yaml is not JSON indented with two spaces and ending in one newline " +
			"(reformat it, e.g. with python3 -m json.tool --indent 2)")
	}
	// Callers own the returned slice.
	b[0] = 'X'
	if again, _ := docs.OpenAPIJSON(); again[0] != '{' {
		t.Error("OpenAPIJSON returns a shared slice")
	}
}

func TestHeader(t *testing.T) {
	d := load(t)
	if d["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", d["openapi"])
	}
	info, _ := d["info"].(obj)
	if info["title"] == nil || info["version"] == nil {
		t.Error("info needs title and version")
	}
	servers, _ := d["servers"].([]any)
	if len(servers) != 1 || servers[0].(obj)["url"] != "http://localhost:8000/api/v1/auth" {
		t.Errorf("servers = %v", servers)
	}
	schemes := deref(t, d, d["components"].(obj)["securitySchemes"])
	want := obj{
		"bearerAuth":    obj{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
		"apiKeyAuth":    obj{"type": "apiKey", "in": "header", "name": "X-API-Key"},
		"sessionCookie": obj{"type": "apiKey", "in": "cookie", "name": "__Host-gh_session"},
	}
	if len(schemes) != len(want) {
		t.Errorf("security schemes %v, want %v", slices.Sorted(mapKeys(schemes)), slices.Sorted(mapKeys(want)))
	}
	for name, fields := range want {
		s, ok := schemes[name].(obj)
		if !ok {
			t.Errorf("no security scheme %s", name)
			continue
		}
		for k, v := range fields.(obj) {
			if s[k] != v {
				t.Errorf("securitySchemes.%s.%s = %v, want %v", name, k, s[k], v)
			}
		}
	}
}

func TestRoutes(t *testing.T) {
	d := load(t)
	var got []string
	eachOperation(t, d, func(route string, _, _ obj) { got = append(got, route) })
	sort.Strings(got)
	want := slices.Sorted(slices.Values(routes))
	if !slices.Equal(got, want) {
		t.Errorf("operations:\n got %v\nwant %v", got, want)
	}
}

func TestOperations(t *testing.T) {
	d := load(t)
	schemes := d["components"].(obj)["securitySchemes"].(obj)
	seen := map[string]string{}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	eachOperation(t, d, func(route string, item, op obj) {
		id, _ := op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", route)
		} else if prev, dup := seen[id]; dup {
			t.Errorf("%s: operationId %q already used by %s", route, id, prev)
		}
		seen[id] = route
		for _, k := range []string{"summary", "description"} {
			if s, _ := op[k].(string); strings.TrimSpace(s) == "" {
				t.Errorf("%s: no %s", route, k)
			}
		}

		// Security: explicit on every operation, naming known schemes.
		sec, ok := op["security"].([]any)
		if !ok {
			t.Errorf("%s: no explicit security", route)
		}
		if isPublic := slices.Contains(public, route); isPublic != (len(sec) == 0) {
			t.Errorf("%s: public = %v but security = %v", route, isPublic, sec)
		}
		for _, req := range sec {
			for name := range req.(obj) {
				if _, ok := schemes[name]; !ok {
					t.Errorf("%s: unknown security scheme %q", route, name)
				}
			}
		}

		// Path parameters are all declared.
		declared := map[string]bool{}
		for _, list := range []any{item["parameters"], op["parameters"]} {
			ps, _ := list.([]any)
			for _, p := range ps {
				pm := deref(t, d, p)
				if pm["in"] == "path" {
					if pm["required"] != true {
						t.Errorf("%s: path parameter %v not required", route, pm["name"])
					}
					declared[pm["name"].(string)] = true
				}
			}
		}
		for _, m := range param.FindAllStringSubmatch(route, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %q not declared", route, m[1])
			}
		}

		// Request bodies: JSON only, closed object schemas.
		if rb, ok := op["requestBody"]; ok {
			rbm := deref(t, d, rb)
			content, _ := rbm["content"].(obj)
			if len(content) != 1 || content["application/json"] == nil {
				t.Errorf("%s: request body must be application/json only, got %v", route, slices.Sorted(mapKeys(content)))
			} else {
				s := deref(t, d, content["application/json"].(obj)["schema"])
				if s["type"] != "object" || s["additionalProperties"] != false {
					t.Errorf("%s: request schema must be an object with additionalProperties: false", route)
				}
				props, _ := s["properties"].(obj)
				req, _ := s["required"].([]any)
				for _, r := range req {
					if _, ok := props[r.(string)]; !ok {
						t.Errorf("%s: required member %v not in properties", route, r)
					}
				}
			}
		}

		// Responses.
		resps, _ := op["responses"].(obj)
		has2xx := false
		for status, r := range resps {
			rm := deref(t, d, r)
			where := route + " " + status
			hdrs, _ := rm["headers"].(obj)
			if hdrs["X-Request-ID"] == nil {
				t.Errorf("%s: no X-Request-ID header", where)
			}
			switch {
			case strings.HasPrefix(status, "2"):
				has2xx = true
				if slices.Contains(rateLimited, route) {
					for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
						if hdrs[h] == nil {
							t.Errorf("%s: rate-limited route without %s", where, h)
						}
					}
				}
			case strings.HasPrefix(status, "4"), strings.HasPrefix(status, "5"):
				checkErrorResponse(t, d, where, status, rm)
			default:
				t.Errorf("%s: unexpected status", where)
			}
		}
		if !has2xx {
			t.Errorf("%s: no 2xx response", route)
		}
		_, has429 := resps["429"]
		if rl := slices.Contains(rateLimited, route); rl != has429 || rl != (op["x-rate-limited"] == true) {
			t.Errorf("%s: rate limited = %v, but 429 documented = %v, x-rate-limited = %v", route, rl, has429, op["x-rate-limited"])
		}
	})
}

// checkErrorResponse checks that an error response uses the shared Error
// schema, restricts it to codes whose status is this response's, and carries
// the headers the status calls for.
func checkErrorResponse(t *testing.T, d obj, where, status string, rm obj) {
	t.Helper()
	content, _ := rm["content"].(obj)
	media, _ := content["application/json"].(obj)
	if media == nil || len(content) != 1 {
		t.Errorf("%s: an error response must have exactly application/json content", where)
		return
	}
	s, _ := media["schema"].(obj)
	var codes []any
	switch {
	case s["$ref"] == errorRef:
		// Any code: nothing more to check.
	case s["allOf"] != nil:
		all := s["allOf"].([]any)
		if len(all) != 2 || all[0].(obj)["$ref"] != errorRef {
			t.Errorf("%s: allOf must be [Error, restriction]", where)
			return
		}
		codes, _ = all[1].(obj)["properties"].(obj)["error"].(obj)["enum"].([]any)
		if len(codes) == 0 {
			t.Errorf("%s: no error codes listed", where)
		}
	default:
		t.Errorf("%s: schema does not reference %s", where, errorRef)
		return
	}
	for _, c := range codes {
		code := auth.Code(c.(string))
		if !slices.Contains(auth.Codes, code) {
			t.Errorf("%s: unknown code %q", where, code)
			continue
		}
		want := fmt.Sprint(code.Status())
		if status == "413" || status == "415" {
			want = status
			if code != auth.CodeInvalidRequest {
				t.Errorf("%s: %s must carry invalid_request, not %s", where, status, code)
			}
		}
		if want != status {
			t.Errorf("%s: code %s is answered with %s", where, code, want)
		}
	}
	if ex, ok := media["example"].(obj); ok {
		if !slices.Contains(codes, ex["error"]) || ex["error_description"] == nil {
			t.Errorf("%s: example %v does not match the listed codes %v", where, ex, codes)
		}
	}
	hdrs, _ := rm["headers"].(obj)
	switch status {
	case "401":
		if hdrs["WWW-Authenticate"] == nil {
			t.Errorf("%s: 401 without WWW-Authenticate", where)
		}
	case "429":
		if deref(t, d, hdrs["Retry-After"])["required"] != true {
			t.Errorf("%s: 429 without a required Retry-After", where)
		}
	}
}

func TestErrorSchema(t *testing.T) {
	d := load(t)
	e := deref(t, d, obj{"$ref": errorRef})
	req, _ := e["required"].([]any)
	if !slices.Equal(req, []any{"error", "error_description"}) {
		t.Errorf("Error.required = %v", req)
	}
	props := e["properties"].(obj)
	code := deref(t, d, props["error"])
	enum, _ := code["enum"].([]any)
	var want []any
	for _, c := range auth.Codes {
		want = append(want, string(c))
	}
	if !slices.Equal(enum, want) {
		t.Errorf("error code enum = %v, want auth.Codes %v", enum, want)
	}
	for _, k := range []string{"error_description", "mfa_token", "methods", "violations"} {
		if props[k] == nil {
			t.Errorf("Error has no member %s", k)
		}
	}
}

// TestRefs walks the whole document: every $ref resolves, and every
// component is used somewhere.
func TestRefs(t *testing.T) {
	d := load(t)
	used := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case obj:
			if r, ok := v["$ref"]; ok {
				rs, ok := r.(string)
				if !ok {
					t.Errorf("%s: $ref is not a string", path)
				} else if _, err := resolve(d, rs); err != nil {
					t.Errorf("%s: %v", path, err)
				} else {
					used[rs] = true
				}
			}
			for k, c := range v {
				walk(path+"/"+k, c)
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprintf("%s/%d", path, i), c)
			}
		}
	}
	walk("#", d)
	for kind, group := range d["components"].(obj) {
		if kind == "securitySchemes" {
			continue // used by name, not by $ref
		}
		for name := range group.(obj) {
			if r := "#/components/" + kind + "/" + name; !used[r] {
				t.Errorf("%s is never referenced", r)
			}
		}
	}
}
