package basic_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
)

func mustPolicy(t *testing.T, cfg basic.PolicyConfig) *basic.PasswordPolicy {
	t.Helper()
	p, err := basic.NewPasswordPolicy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// violations returns the violation codes of err, failing the test when err is
// neither nil nor a password_policy error.
func violations(t *testing.T, err error) []basic.ViolationCode {
	t.Helper()
	if err == nil {
		return nil
	}
	var pe *basic.PolicyError
	if !errors.As(err, &pe) || !errors.Is(err, auth.ErrPasswordPolicy) {
		t.Fatalf("error %v is not a password_policy *auth.Error wrapping *PolicyError", err)
	}
	var codes []basic.ViolationCode
	for _, v := range pe.Violations {
		codes = append(codes, v.Code)
	}
	return codes
}

// distinct returns n characters that are neither repeated nor sequential,
// built from base.
func distinct(base string, n int) string {
	r := []rune(base)
	out := make([]rune, n)
	for i := range out {
		out[i] = r[(i*7)%len(r)]
	}
	return string(out)
}

func TestPolicyTable(t *testing.T) {
	const (
		latin = "kqzwmvbxtrplhgnfdjsc"
		cjk   = "森林川山海空雲雨風花鳥月星光水火土金木石"
		emoji = "🦊🐙🦉🐢🦋🐝🐳🦔🐌🦜🐞🦀🦥🦩🦦🐬🦓🐘🦒🦘"
	)
	def := mustPolicy(t, basic.PolicyConfig{})
	max64 := mustPolicy(t, basic.PolicyConfig{MaxLength: 64})
	composed := mustPolicy(t, basic.PolicyConfig{RequireUppercase: true, RequireLowercase: true, RequireDigit: true, RequireSymbol: true})
	contextual := mustPolicy(t, basic.PolicyConfig{ContextWords: []string{"SteelPlant", "ab"}})
	alice := basic.PasswordOwner{Username: "alice.w", Email: "Wonder.Alice@example.com"}

	tests := []struct {
		name   string
		policy *basic.PasswordPolicy
		pw     string
		owner  basic.PasswordOwner
		want   []basic.ViolationCode
	}{
		{"12 ASCII characters is the minimum", def, distinct(latin, 12), basic.PasswordOwner{}, nil},
		{"11 ASCII characters is too short", def, distinct(latin, 11), basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationTooShort}},
		{"11 CJK characters are 33 bytes but still too short", def, distinct(cjk, 11), basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationTooShort}},
		{"12 CJK characters pass", def, distinct(cjk, 12), basic.PasswordOwner{}, nil},
		{"12 emoji of 4 bytes pass", def, distinct(emoji, 12), basic.PasswordOwner{}, nil},
		{"decomposed accents count as code points", def, "re\u0301sume\u0301-203", basic.PasswordOwner{}, nil},
		{"64 characters are accepted by default", def, distinct(latin, 64), basic.PasswordOwner{}, nil},
		{"64 four-byte characters (256 bytes) are accepted", def, distinct(emoji, 64), basic.PasswordOwner{}, nil},
		{"128 characters are the default maximum", def, distinct(latin, 128), basic.PasswordOwner{}, nil},
		{"129 characters are too long, not truncated", def, distinct(latin, 129), basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationTooLong}},
		{"MaxLength 64 accepts 64 emoji", max64, distinct(emoji, 64), basic.PasswordOwner{}, nil},
		{"MaxLength 64 refuses 65 ASCII", max64, distinct(latin, 65), basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationTooLong}},
		{"megabyte password refused before per-character work", def, strings.Repeat("a", 1<<20), basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationTooLong}},
		{"invalid UTF-8", def, distinct(latin, 12) + "\xff", basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationInvalidCharacter}},
		{"NUL byte inside", def, distinct(latin, 6) + "\x00" + distinct(latin, 6), basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationInvalidCharacter}},
		{"spaces are fine", def, "amber falcon quarry 58", basic.PasswordOwner{}, nil},
		{"blocklisted exactly", def, "cheeseburger", basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationCommon}},
		{"blocklisted in mixed case", def, "ChEeSeBuRgEr", basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationCommon}},
		{"blocklisted word with digits and symbols appended", def, "Dragon2024!!!", basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationCommon}},
		{"blocklisted word with digits prepended", def, "1999iloveyou", basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationCommon}},
		{"one character repeated", def, strings.Repeat("z", 16), basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationRepetitive}},
		{"short unit repeated", def, strings.Repeat("xq7", 5), basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationRepetitive}},
		{"ascending run", def, "abcdefghijklmn", basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationRepetitive}},
		{"descending run", def, "zyxwvutsrqponm", basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationRepetitive}},
		{"contains the username in other case", def, "my-ALICE.W-secret-77", alice, []basic.ViolationCode{basic.ViolationContainsUsername}},
		{"contains the email local part", def, "xx wonder.alice 2031", alice, []basic.ViolationCode{basic.ViolationContainsEmail}},
		{"contains the email domain only is fine", def, "example-amber-falcon", alice, nil},
		{"two-character username is not checked", def, "xy amber falcon quarry", basic.PasswordOwner{Username: "xy"}, nil},
		{"context word in other case", contextual, "i-work-at-steelplant", basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationContextWord}},
		{"context word shorter than 3 is ignored", contextual, "abacus falcon quarry", basic.PasswordOwner{}, nil},
		{"composition off by default: lower case only", def, "amberfalconquarry", basic.PasswordOwner{}, nil},
		{"composition on: all four missing", composed, "           z   ", basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationNoUppercase, basic.ViolationNoDigit}},
		{"composition on: satisfied", composed, "Amber falcon 58", basic.PasswordOwner{}, nil},
		{"composition on: only digits", composed, "908172635401", basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationNoUppercase, basic.ViolationNoLowercase, basic.ViolationNoSymbol}},
		{"every violation at once", def, "alice.w", alice, []basic.ViolationCode{basic.ViolationTooShort, basic.ViolationContainsUsername}},
		{"short, common and repetitive together", def, "123456", basic.PasswordOwner{}, []basic.ViolationCode{basic.ViolationTooShort, basic.ViolationCommon, basic.ViolationRepetitive}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := violations(t, tc.policy.Validate(context.Background(), tc.pw, tc.owner))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("violations = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPolicyErrorDetailsForClients(t *testing.T) {
	p := mustPolicy(t, basic.PolicyConfig{})
	err := p.Validate(context.Background(), "alice", basic.PasswordOwner{Username: "alice"})
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Code != auth.CodePasswordPolicy || ae.Status() != 422 {
		t.Fatalf("Validate = %v, want a 422 password_policy *auth.Error", err)
	}
	list, ok := ae.Details["violations"].([]basic.Violation)
	if !ok || len(list) < 2 {
		t.Fatalf("Details[violations] = %#v", ae.Details["violations"])
	}
	for _, v := range list {
		if v.Message == "" || strings.Contains(v.Message, "alice") {
			t.Fatalf("violation message %q empty or echoes the password", v.Message)
		}
	}
}

func TestPolicyConfigLimits(t *testing.T) {
	tests := []struct {
		name string
		cfg  basic.PolicyConfig
		ok   bool
	}{
		{"zero value", basic.PolicyConfig{}, true},
		{"MinLength 8 is the NIST floor", basic.PolicyConfig{MinLength: 8}, true},
		{"MinLength 7", basic.PolicyConfig{MinLength: 7}, false},
		{"MaxLength 63 breaks the 64-character rule", basic.PolicyConfig{MaxLength: 63}, false},
		{"MaxLength 64", basic.PolicyConfig{MaxLength: 64}, true},
		{"MaxLength 100000", basic.PolicyConfig{MaxLength: 100000}, false},
		{"MinLength above MaxLength", basic.PolicyConfig{MinLength: 80, MaxLength: 64}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := basic.NewPasswordPolicy(tc.cfg)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, basic.ErrInvalidConfig)) {
				t.Fatalf("NewPasswordPolicy = %v", err)
			}
		})
	}
	p := mustPolicy(t, basic.PolicyConfig{})
	if p.MinLength() != 12 || p.MaxLength() != 128 {
		t.Fatalf("defaults %d..%d, want 12..128", p.MinLength(), p.MaxLength())
	}
}

func TestPolicySkipBlocklist(t *testing.T) {
	p := mustPolicy(t, basic.PolicyConfig{SkipBlocklist: true})
	if err := p.Validate(context.Background(), "cheeseburger", basic.PasswordOwner{}); err != nil {
		t.Fatalf("with SkipBlocklist a listed password was refused: %v", err)
	}
}

func TestPolicyBreachChecker(t *testing.T) {
	calls := 0
	var answer bool
	var failure error
	checker := basic.BreachCheckerFunc(func(ctx context.Context, pw string) (bool, error) {
		calls++
		return answer, failure
	})
	p := mustPolicy(t, basic.PolicyConfig{Breach: checker})
	ctx := context.Background()

	answer = true
	if got := violations(t, p.Validate(ctx, "amber falcon quarry 58", basic.PasswordOwner{})); !slices.Equal(got, []basic.ViolationCode{basic.ViolationBreached}) {
		t.Fatalf("breached password: %v", got)
	}
	answer = false
	if err := p.Validate(ctx, "amber falcon quarry 58", basic.PasswordOwner{}); err != nil {
		t.Fatalf("clean password: %v", err)
	}
	failure = errors.New("connection refused")
	err := p.Validate(ctx, "amber falcon quarry 58", basic.PasswordOwner{})
	if !errors.Is(err, basic.ErrBreachCheck) || errors.Is(err, auth.ErrPasswordPolicy) {
		t.Fatalf("failing checker: %v, want ErrBreachCheck and no policy verdict", err)
	}
	if ae := auth.AsError(err); ae.Code != auth.CodeUnavailable {
		t.Fatalf("failing checker maps to %s, want unavailable", ae.Code)
	}
	before := calls
	_ = p.Validate(ctx, "short", basic.PasswordOwner{})
	if calls != before {
		t.Fatal("the breach checker was asked about a password the local rules already refuse")
	}
}
