package apikey

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"slices"
	"sync"
)

// MinHashKeyLength is the shortest [Config.HashKey] accepted (256 bits).
const MinHashKeyLength = 32

// hasher computes the [Hash] of keys. It is safe for concurrent use.
type hasher struct {
	key  []byte    // HMAC key; nil means plain SHA-256
	pool sync.Pool // of *macState, reused so that hashing does not allocate
}

// macState is one keyed HMAC with its scratch buffers.
type macState struct {
	mac hash.Hash
	in  []byte
	out []byte
}

func newHasher(key []byte) *hasher {
	h := &hasher{key: slices.Clone(key)}
	if h.key != nil {
		h.pool.New = func() any {
			return &macState{
				mac: hmac.New(sha256.New, h.key),
				in:  make([]byte, 0, MaxKeyLength),
				out: make([]byte, 0, sha256.Size),
			}
		}
	}
	return h
}

// sum returns the hash of key.
func (h *hasher) sum(key string) Hash {
	if h.key == nil {
		if len(key) <= MaxKeyLength {
			var buf [MaxKeyLength]byte
			n := copy(buf[:], key)
			return sha256.Sum256(buf[:n])
		}
		return sha256.Sum256([]byte(key))
	}
	st := h.pool.Get().(*macState)
	st.mac.Reset()
	st.in = append(st.in[:0], key...)
	st.mac.Write(st.in)
	st.out = st.mac.Sum(st.out[:0])
	var out Hash
	copy(out[:], st.out)
	if cap(st.in) <= MaxKeyLength {
		h.pool.Put(st)
	}
	return out
}
