package secure

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestToken(t *testing.T) {
	a, b := Token(32), Token(32)
	if a == b {
		t.Fatal("two tokens are equal")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 {
		t.Fatalf("Token(32) = %q decodes to %d bytes, %v", a, len(raw), err)
	}
}

func TestBase62AlphabetAndSpread(t *testing.T) {
	const n = 62 * 400
	s := Base62(n)
	if len(s) != n {
		t.Fatalf("len %d", len(s))
	}
	counts := map[rune]int{}
	for _, c := range s {
		if !strings.ContainsRune(Base62Alphabet, c) {
			t.Fatalf("character %q outside the alphabet", c)
		}
		counts[c]++
	}
	// Every symbol should appear about 400 times; a modulo bias or a
	// broken alphabet shows up as a missing or far too frequent symbol.
	if len(counts) != 62 {
		t.Fatalf("%d distinct symbols, want 62", len(counts))
	}
	for c, k := range counts {
		if k < 250 || k > 550 {
			t.Fatalf("symbol %q appears %d times out of %d", c, k, n)
		}
	}
}

func TestHashHexAndEqual(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 Appendix B.1.
	if got := HashHex("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("HashHex(abc) = %s", got)
	}
	if !Equal("same", "same") || Equal("same", "Same") || Equal("a", "ab") {
		t.Fatal("Equal is wrong")
	}
}
