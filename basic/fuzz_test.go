package basic_test

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/basic"
)

// FuzzParseHash feeds arbitrary strings to the hash parser. It must never
// panic, must classify every failure as malformed or unsupported, and must
// accept only canonical PHC strings: what it accepts re-encodes to the input.
func FuzzParseHash(f *testing.F) {
	for _, s := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		"$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$2y$10$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$bcrypt-sha256$v=1,r=12$c2FsdHNhbHRzYWx0c2FsdA$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$$",
		"$scrypt$ln=63,r=4294967295,p=4294967295$AA$AA",
		"$", "$$$$$$", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info, err := basic.ParseHash(s)
		if err != nil {
			if !errors.Is(err, basic.ErrMalformedHash) && !errors.Is(err, basic.ErrUnsupportedHash) {
				t.Fatalf("ParseHash(%q) = %v: neither malformed nor unsupported", s, err)
			}
			return
		}
		b64 := base64.RawStdEncoding.EncodeToString
		switch info.Algorithm {
		case basic.Argon2id:
			if info.Memory > 256<<10 || info.Iterations > 32 || info.Parallelism > 16 {
				t.Fatalf("accepted parameters above the limits: %+v", info)
			}
			re := "$argon2id$v=19$m=" + strconv.Itoa(int(info.Memory)) + ",t=" + strconv.Itoa(int(info.Iterations)) +
				",p=" + strconv.Itoa(int(info.Parallelism)) + "$" + b64(info.Salt) + "$" + b64(info.Key)
			if re != s {
				t.Fatalf("accepted non-canonical %q (canonical %q)", s, re)
			}
		case basic.Scrypt:
			if 128*(1<<info.LogN)*info.R > 256<<20 {
				t.Fatalf("accepted parameters above the limits: %+v", info)
			}
			re := "$scrypt$ln=" + strconv.Itoa(int(info.LogN)) + ",r=" + strconv.Itoa(info.R) + ",p=" + strconv.Itoa(info.P) +
				"$" + b64(info.Salt) + "$" + b64(info.Key)
			if re != s {
				t.Fatalf("accepted non-canonical %q (canonical %q)", s, re)
			}
		case basic.Bcrypt:
			if info.Cost < 4 || info.Cost > 16 {
				t.Fatalf("accepted bcrypt cost %d", info.Cost)
			}
		default:
			t.Fatalf("accepted unknown algorithm %q", info.Algorithm)
		}
		if len(info.Salt) > 64 || len(info.Key) > 64 {
			t.Fatalf("oversized salt or key: %+v", info)
		}
	})
}

// FuzzParseBasic feeds arbitrary Authorization values to the Basic parser.
// Accepted credentials are non-empty UTF-8 user-ids without ':' or control
// characters, and encoding them again parses to the same pair.
func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{
		basicHeader("alice", "secret"),
		basicHeader("jürgen", "пароль:🔑"),
		"Basic YWxpY2U6", "basic Og==", "Basic ", "Basic", "Basic ====",
		"Basic YWxpY2U6c2VjcmV0\r\nX-Injected: 1", "BASIC     YWxpY2U6c2VjcmV0",
		"Bearer YWxpY2U6c2VjcmV0", "Basic " + strings.Repeat("QUFB", 3000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		user, pass, ok := basic.ParseBasic(header)
		if !ok {
			if user != "" || pass != "" {
				t.Fatalf("rejected header returned %q, %q", user, pass)
			}
			return
		}
		if user == "" || strings.Contains(user, ":") || !utf8.ValidString(user) || !utf8.ValidString(pass) {
			t.Fatalf("accepted user %q pass %q", user, pass)
		}
		for _, r := range user + pass {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("accepted a control character %U", r)
			}
		}
		u2, p2, ok2 := basic.ParseBasic(basicHeader(user, pass))
		if !ok2 || u2 != user || p2 != pass {
			t.Fatalf("round trip of %q, %q gave %q, %q, %v", user, pass, u2, p2, ok2)
		}
	})
}
