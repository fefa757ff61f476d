package apikey

import (
	"encoding/hex"
	"maps"
	"slices"
	"time"
)

// Hash is the stored form of a key: HMAC-SHA256 of the whole key under
// [Config.HashKey], or SHA-256 when no hash key is configured. Stores index
// keys by it. Adapters may store it as 32 raw bytes or as [Hash.String].
type Hash [32]byte

// String returns h in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zero (no hash).
func (h Hash) IsZero() bool { return h == Hash{} }

// Key is the stored record of an API key. It never holds the key itself,
// only its [Hash] and a short display prefix. A Key returned by a [Store] or
// a [Manager] belongs to the caller, who may modify it; only
// [SharedLookup] returns shared, read-only records.
type Key struct {
	// ID identifies the key in URLs, lists, events and the principal's
	// CredentialID. It is not secret.
	ID string `json:"id"`
	// OwnerID is the subject (user or service account) the key acts for.
	OwnerID string `json:"owner_id"`
	// Name and Description are labels chosen by the owner.
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Prefix is the display prefix: the format prefix and the first 4
	// characters of the body, for example "gk_7Hq2".
	Prefix string `json:"prefix"`
	// Hash is the lookup hash of the key. It is not part of the JSON form.
	Hash Hash `json:"-"`
	// Permissions are the permissions the key may exercise, at most: at use
	// they are intersected with the owner's current ones. Sorted, no
	// duplicates; non-nil (possibly empty) for keys made by a [Manager].
	Permissions []string `json:"permissions"`
	// Metadata holds host-defined labels. Not interpreted.
	Metadata map[string]string `json:"metadata,omitempty"`
	// CreatedAt is when the key was created.
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the key stops working; zero means never. Rotation
	// lowers it to the end of the grace period.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt is when the key was revoked; zero means not revoked.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// RotatedFrom is the ID of the key this one replaced, if any.
	RotatedFrom string `json:"rotated_from,omitempty"`
	// ReplacedBy is the ID of the key that replaced this one by rotation.
	ReplacedBy string `json:"replaced_by,omitempty"`
	// LastUsedAt and LastUsedIP record the latest use known to the store.
	// They lag behind real use by up to [Config.FlushInterval].
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	LastUsedIP string    `json:"last_used_ip,omitempty"`
}

// Check reports whether k can be used at time now: nil, [ErrRevoked], or
// [ErrExpired] (which includes the end of a rotation grace period).
func (k *Key) Check(now time.Time) error {
	if !k.RevokedAt.IsZero() {
		return ErrRevoked
	}
	if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
		return ErrExpired
	}
	return nil
}

// Clone returns a deep copy of k.
func (k *Key) Clone() *Key {
	c := *k
	c.Permissions = slices.Clone(k.Permissions)
	c.Metadata = maps.Clone(k.Metadata)
	return &c
}
