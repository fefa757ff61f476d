package basic

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sort"
)

// blocklistGz is the common-password list: lower-cased, sorted bytewise, one
// per line, gzip-compressed. Source and license: BLOCKLIST_NOTICE.md.
//
//go:embed blocklist.txt.gz
var blocklistGz []byte

// blocklist is a decoded, sorted password list searched by binary search. It
// is immutable after construction and safe for concurrent use.
type blocklist struct {
	data  string   // the whole list, "\n"-terminated lines
	start []uint32 // offset of each line in data
}

// loadBlocklist decodes the embedded list. Each PasswordPolicy holds its own
// copy (about 0.6 MB), so that the package keeps no global state.
func loadBlocklist() (*blocklist, error) {
	zr, err := gzip.NewReader(bytes.NewReader(blocklistGz))
	if err != nil {
		return nil, fmt.Errorf("basic: blocklist: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("basic: blocklist: %w", err)
	}
	b := &blocklist{data: string(raw), start: make([]uint32, 0, 50_000)}
	for off := 0; off < len(raw); {
		b.start = append(b.start, uint32(off))
		i := bytes.IndexByte(raw[off:], '\n')
		if i < 0 {
			return nil, fmt.Errorf("basic: blocklist: last line not terminated")
		}
		off += i + 1
	}
	return b, nil
}

func (b *blocklist) line(i int) string {
	s := b.data[b.start[i]:]
	for j := 0; j < len(s); j++ {
		if s[j] == '\n' {
			return s[:j]
		}
	}
	return s
}

// len returns the number of entries.
func (b *blocklist) len() int { return len(b.start) }

// contains reports whether the lower-cased password w is on the list.
func (b *blocklist) contains(w string) bool {
	i := sort.Search(len(b.start), func(i int) bool { return b.line(i) >= w })
	return i < len(b.start) && b.line(i) == w
}
