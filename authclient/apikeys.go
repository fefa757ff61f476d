package authclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// APIKeyService manages the caller's API keys (the /api-keys routes). Get
// it from [Client.APIKeys]; it is safe for concurrent use.
type APIKeyService struct{ c *Client }

// APIKey is the record of an API key. It never holds the key itself.
type APIKey struct {
	// ID identifies the key in the /api-keys/{id} routes.
	ID string `json:"id"`
	// Name and Description are the labels given at creation.
	Name        string `json:"name"`
	Description string `json:"description"`
	// Prefix is the public start of the key, enough to recognise it.
	Prefix string `json:"prefix"`
	// Permissions are what the key may do; never more than its owner.
	Permissions []string `json:"permissions"`
	// CreatedAt is when the key was created.
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the key stops working; zero for never.
	ExpiresAt time.Time `json:"expires_at"`
	// LastUsedAt is when the key was last accepted; zero for never.
	LastUsedAt time.Time `json:"last_used_at"`
	// RevokedAt is when the key was revoked; zero while it is not.
	RevokedAt time.Time `json:"revoked_at"`
}

// IssuedAPIKey is a new key as answered once by Create and Rotate: the
// plaintext key and its record. Store Key at once; the server keeps only a
// hash of it and cannot show it again.
//
// String, GoString and LogValue leave Key out, so printing or logging an
// IssuedAPIKey does not leak it.
type IssuedAPIKey struct {
	APIKey
	// Key is the plaintext key ("api_key" in the response), to send in the
	// X-API-Key header.
	Key string `json:"api_key"`
}

// String describes the key by its ID and prefix, without the key.
func (k IssuedAPIKey) String() string {
	return fmt.Sprintf("api key %s (%s…)", k.ID, k.Prefix)
}

// GoString describes the key without the plaintext.
func (k IssuedAPIKey) GoString() string {
	return fmt.Sprintf("authclient.IssuedAPIKey{APIKey: %#v, Key: \"[redacted]\"}", k.APIKey)
}

// LogValue implements slog.LogValuer, leaving the key out.
func (k IssuedAPIKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.String("prefix", k.Prefix))
}

// CreateAPIKeyRequest is the body of POST /api-keys.
type CreateAPIKeyRequest struct {
	// Name labels the key; required.
	Name string `json:"name"`
	// Description is optional.
	Description string `json:"description,omitempty"`
	// Permissions the key gets; the server refuses any the caller lacks.
	Permissions []string `json:"permissions"`
	// ExpiresAt is when the key stops working; zero asks for the server's
	// default.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Create creates a key (POST /api-keys).
func (s *APIKeyService) Create(ctx context.Context, req CreateAPIKeyRequest) (*IssuedAPIKey, error) {
	if req.Permissions == nil {
		req.Permissions = []string{}
	}
	var k IssuedAPIKey
	if err := s.c.call(ctx, http.MethodPost, "/api-keys", req, &k); err != nil {
		return nil, err
	}
	if k.Key == "" {
		return nil, errors.New("authclient: POST /api-keys: the response holds no api_key")
	}
	return &k, nil
}

// List returns the caller's keys (GET /api-keys). The server may answer a
// JSON array or an object with an "api_keys" array.
func (s *APIKeyService) List(ctx context.Context) ([]APIKey, error) {
	var raw json.RawMessage
	if err := s.c.call(ctx, http.MethodGet, "/api-keys", nil, &raw); err != nil {
		return nil, err
	}
	keys, err := decodeList[APIKey](raw, "api_keys")
	if err != nil {
		return nil, fmt.Errorf("authclient: GET /api-keys: decoding the response: %w", err)
	}
	return keys, nil
}

// Get returns the key with the given ID (GET /api-keys/{id}).
func (s *APIKeyService) Get(ctx context.Context, id string) (*APIKey, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	var k APIKey
	if err := s.c.call(ctx, http.MethodGet, "/api-keys/"+id, nil, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// Revoke revokes the key with the given ID (DELETE /api-keys/{id}).
func (s *APIKeyService) Revoke(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	return s.c.call(ctx, http.MethodDelete, "/api-keys/"+id, nil, nil)
}

// Rotate replaces the key with the given ID by a new one with the same
// name and permissions (POST /api-keys/{id}/rotate) and returns the new key.
// A client in API key mode keeps sending the key it was built with.
func (s *APIKeyService) Rotate(ctx context.Context, id string) (*IssuedAPIKey, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	var k IssuedAPIKey
	if err := s.c.call(ctx, http.MethodPost, "/api-keys/"+id+"/rotate", emptyObject, &k); err != nil {
		return nil, err
	}
	if k.Key == "" {
		return nil, errors.New("authclient: POST /api-keys/{id}/rotate: the response holds no api_key")
	}
	return &k, nil
}

// checkID refuses IDs that would not stay one path segment.
func checkID(id string) error {
	if id == "" || id == "." || id == ".." || len(id) > 256 || strings.ContainsAny(id, "/\\") ||
		cleanText(id, 256) != id {
		return fmt.Errorf("authclient: invalid ID %q", cleanText(id, 64))
	}
	return nil
}
