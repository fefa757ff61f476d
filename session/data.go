package session

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Data is the small key/value bag of one session, available to handlers
// behind [Manager.LoadAndSave] through [Manager.Data]. Values are stored as
// strings; the typed accessors convert, and report false when the key is
// absent or holds a value of another type. Changes are saved when the
// response starts (see [Manager.LoadAndSave]).
//
// The bag is stored in the session store as written: it must not hold
// secrets, and it is capped by Config.MaxDataSize. Data is safe for
// concurrent use.
type Data struct {
	mu      sync.Mutex        // guards values, version and saved
	values  map[string]string // nil until the first Set
	version uint64            // incremented by every change
	saved   uint64            // version last written to the store
}

// decodeData parses the stored form of a bag.
func decodeData(s string) (*Data, error) {
	d := &Data{}
	if s == "" {
		return d, nil
	}
	if err := json.Unmarshal([]byte(s), &d.values); err != nil {
		return nil, err
	}
	return d, nil
}

// encode returns the stored form of d (a JSON object of strings, keys
// sorted; "" when empty) and the version it reflects.
func (d *Data) encode() (string, uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.values) == 0 {
		return "", d.version, nil
	}
	b, err := json.Marshal(d.values)
	return string(b), d.version, err
}

// dirty reports whether d changed since it was last saved.
func (d *Data) dirty() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.version != d.saved
}

// markSaved records that version v is in the store.
func (d *Data) markSaved(v uint64) {
	d.mu.Lock()
	if v > d.saved {
		d.saved = v
	}
	d.mu.Unlock()
}

func (d *Data) get(key string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.values[key]
	return v, ok
}

func (d *Data) set(key, value string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.values[key]; ok && old == value {
		return
	}
	if d.values == nil {
		d.values = make(map[string]string)
	}
	d.values[key] = value
	d.version++
}

// String returns the value of key.
func (d *Data) String(key string) (string, bool) { return d.get(key) }

// SetString sets key to v.
func (d *Data) SetString(key, v string) { d.set(key, v) }

// Int returns the integer value of key.
func (d *Data) Int(key string) (int64, bool) {
	s, ok := d.get(key)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// SetInt sets key to n.
func (d *Data) SetInt(key string, n int64) { d.set(key, strconv.FormatInt(n, 10)) }

// Bool returns the boolean value of key.
func (d *Data) Bool(key string) (bool, bool) {
	s, ok := d.get(key)
	switch {
	case ok && s == "true":
		return true, true
	case ok && s == "false":
		return false, true
	}
	return false, false
}

// SetBool sets key to b.
func (d *Data) SetBool(key string, b bool) { d.set(key, strconv.FormatBool(b)) }

// Time returns the time value of key.
func (d *Data) Time(key string) (time.Time, bool) {
	s, ok := d.get(key)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// SetTime sets key to t, kept to the nanosecond in UTC (the monotonic clock
// reading and the location are dropped).
func (d *Data) SetTime(key string, t time.Time) { d.set(key, t.UTC().Format(time.RFC3339Nano)) }

// Delete removes key. Removing an absent key changes nothing.
func (d *Data) Delete(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.values[key]; ok {
		delete(d.values, key)
		d.version++
	}
}

// Clear removes every key.
func (d *Data) Clear() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.values) > 0 {
		clear(d.values)
		d.version++
	}
}

// Keys returns the keys, sorted.
func (d *Data) Keys() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Sorted(maps.Keys(d.values))
}
