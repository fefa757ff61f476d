// Package docs embeds the OpenAPI 3.1 document of the Gatehouse JSON auth API
// (the routes of package authapi, DESIGN.md §4) so that a host can serve it,
// typically at <prefix>/openapi.json.
//
// # Format of openapi.yaml
//
// The core module depends on no YAML library, so openapi.yaml is written in
// the JSON subset of YAML 1.2: the file is plain JSON indented with two
// spaces. Every YAML 1.2 tool (editors, linters, code generators) reads it as
// YAML, and this package reads it with encoding/json. Keep it that way when
// editing: no comments, no unquoted strings, no anchors. The package tests
// fail otherwise.
//
// The document is the contract of the API: the server, the Go client
// (package authclient) and the document follow it exactly, and the tests of
// this package check its internal consistency (every operation has an
// operationId and a 2xx answer, every error answer uses the shared Error
// schema with codes of the right status, no dangling $ref).
//
// Everything in this package is safe for concurrent use.
package docs

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

//go:embed openapi.yaml
var openAPIYAML []byte

// compact is computed once: the embedded file never changes.
var compact = sync.OnceValues(func() ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(openAPIYAML, &top); err != nil {
		return nil, fmt.Errorf("docs: openapi.yaml is not a JSON object: %w", err)
	}
	if _, ok := top["openapi"]; !ok {
		return nil, errors.New(`docs: openapi.yaml has no "openapi" member`)
	}
	var buf bytes.Buffer
	buf.Grow(len(openAPIYAML) / 2)
	if err := json.Compact(&buf, openAPIYAML); err != nil {
		return nil, fmt.Errorf("docs: compacting openapi.yaml: %w", err)
	}
	return buf.Bytes(), nil
})

// OpenAPIJSON returns the OpenAPI document as compact JSON, members in the
// order of the file. It fails only if the embedded file is not valid JSON,
// which the package tests rule out. Each call returns a new slice that the
// caller may modify.
func OpenAPIJSON() ([]byte, error) {
	b, err := compact()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}
