package basic

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/auth"
)

// Defaults and limits of [PolicyConfig].
const (
	// DefaultMinLength is the minimum password length in characters.
	DefaultMinLength = 12
	// DefaultMaxLength is the maximum password length in characters.
	DefaultMaxLength = 128
	// minMinLength is the lowest MinLength accepted (NIST SP 800-63B's
	// absolute minimum).
	minMinLength = 8
	// minMaxLength is the lowest MaxLength accepted: NIST SP 800-63B
	// requires at least 64 characters to be permitted.
	minMaxLength = 64
	// maxMaxLength bounds MaxLength, and with it the input of one hash.
	maxMaxLength = 1024
	// minContainsLength is the shortest username, email local part or
	// context word that a password may not contain.
	minContainsLength = 3
)

// ViolationCode identifies one way a password fails the policy. Clients see
// it in the "violations" list of a password_policy error.
type ViolationCode string

// Violation codes.
const (
	ViolationTooShort         ViolationCode = "too_short"
	ViolationTooLong          ViolationCode = "too_long"
	ViolationInvalidCharacter ViolationCode = "invalid_character"
	ViolationCommon           ViolationCode = "common_password"
	ViolationRepetitive       ViolationCode = "repetitive"
	ViolationContainsUsername ViolationCode = "contains_username"
	ViolationContainsEmail    ViolationCode = "contains_email"
	ViolationContextWord      ViolationCode = "contains_context_word"
	ViolationNoUppercase      ViolationCode = "missing_uppercase"
	ViolationNoLowercase      ViolationCode = "missing_lowercase"
	ViolationNoDigit          ViolationCode = "missing_digit"
	ViolationNoSymbol         ViolationCode = "missing_symbol"
	ViolationBreached         ViolationCode = "breached"
	ViolationReused           ViolationCode = "reused"
)

// Violation is one reason a password was refused. Message is client-safe
// and never contains the password.
type Violation struct {
	Code    ViolationCode `json:"code"`
	Message string        `json:"message"`
}

// PolicyError lists every violation of a refused password. Validate and the
// [Users] methods return it wrapped in a password_policy *auth.Error whose
// Details["violations"] holds the same list; use errors.As to get it.
type PolicyError struct {
	Violations []Violation
}

// Error implements error.
func (e *PolicyError) Error() string {
	codes := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		codes[i] = string(v.Code)
	}
	return "basic: password policy: " + strings.Join(codes, ", ")
}

// Has reports whether e lists a violation with code c.
func (e *PolicyError) Has(c ViolationCode) bool {
	for _, v := range e.Violations {
		if v.Code == c {
			return true
		}
	}
	return false
}

// authError wraps e for clients.
func (e *PolicyError) authError() *auth.Error {
	return &auth.Error{
		Code:        auth.CodePasswordPolicy,
		Description: "the password does not meet the policy",
		Details:     map[string]any{"violations": e.Violations},
		Err:         e,
	}
}

// PolicyConfig configures a [PasswordPolicy]. The zero value is the NIST SP
// 800-63B policy: 12 to 128 characters, no composition rules, the embedded
// blocklist, no username or email local part inside, no breach check.
type PolicyConfig struct {
	// MinLength is the minimum length in characters (Unicode code points).
	// Zero means 12; values below 8 are refused.
	MinLength int
	// MaxLength is the maximum length in characters. Zero means 128; values
	// below 64 (NIST SP 800-63B §3.1.1.2) or above 1024 are refused.
	// Longer passwords are refused, never truncated.
	MaxLength int
	// RequireUppercase, RequireLowercase, RequireDigit and RequireSymbol
	// turn on composition rules. NIST SP 800-63B advises against them; they
	// are off by default. A symbol is any character that is neither a letter
	// nor a digit.
	RequireUppercase bool
	RequireLowercase bool
	RequireDigit     bool
	RequireSymbol    bool
	// ContextWords are words no password may contain, compared
	// case-insensitively: the name of the service, the company, the product.
	// Words shorter than 3 characters are ignored.
	ContextWords []string
	// SkipBlocklist turns off the embedded list of common passwords. It
	// weakens the policy; use it only when an equivalent check runs
	// elsewhere.
	SkipBlocklist bool
	// Breach, if set, is asked whether the password appeared in a breach
	// (for example [HIBP]). Nil means no breach check. A checker that fails
	// makes Validate fail with an error wrapping [ErrBreachCheck]: the
	// password is never taken as "not breached" by default.
	Breach BreachChecker
}

// PasswordPolicy checks new passwords. It is immutable and safe for
// concurrent use.
type PasswordPolicy struct {
	cfg       PolicyConfig
	blocklist *blocklist // nil when SkipBlocklist
	context   []string   // lower-cased ContextWords of at least 3 characters
}

// NewPasswordPolicy validates cfg, fills its defaults, decodes the embedded
// blocklist and returns the policy. It returns an error wrapping
// [ErrInvalidConfig] for lengths outside the limits documented on
// [PolicyConfig].
func NewPasswordPolicy(cfg PolicyConfig) (*PasswordPolicy, error) {
	if cfg.MinLength == 0 {
		cfg.MinLength = DefaultMinLength
	}
	if cfg.MaxLength == 0 {
		cfg.MaxLength = DefaultMaxLength
	}
	if cfg.MinLength < minMinLength {
		return nil, fmt.Errorf("%w: MinLength below %d", ErrInvalidConfig, minMinLength)
	}
	if cfg.MaxLength < minMaxLength || cfg.MaxLength > maxMaxLength {
		return nil, fmt.Errorf("%w: MaxLength outside [%d, %d]", ErrInvalidConfig, minMaxLength, maxMaxLength)
	}
	if cfg.MinLength > cfg.MaxLength {
		return nil, fmt.Errorf("%w: MinLength above MaxLength", ErrInvalidConfig)
	}
	p := &PasswordPolicy{cfg: cfg}
	for _, w := range cfg.ContextWords {
		if utf8.RuneCountInString(w) >= minContainsLength {
			p.context = append(p.context, strings.ToLower(w))
		}
	}
	p.cfg.ContextWords = nil
	if !cfg.SkipBlocklist {
		b, err := loadBlocklist()
		if err != nil {
			return nil, err
		}
		p.blocklist = b
	}
	return p, nil
}

// MinLength returns the minimum length in characters.
func (p *PasswordPolicy) MinLength() int { return p.cfg.MinLength }

// MaxLength returns the maximum length in characters.
func (p *PasswordPolicy) MaxLength() int { return p.cfg.MaxLength }

// PasswordOwner is what Validate knows about the account a password is for,
// so that it can refuse passwords containing the username or the email
// address's local part.
type PasswordOwner struct {
	Username string
	Email    string
}

// Validate checks password against the policy and returns nil or a
// password_policy *auth.Error wrapping a [*PolicyError] that lists every
// violation, not only the first. (A password of more than 4 x MaxLength bytes
// gets too_long alone, before any other work.)
//
// Lengths count Unicode code points of the password exactly as given:
// Validate does not normalise (Users applies Config.NormalizePassword first
// when set). Invalid UTF-8 and control characters are violations.
//
// The breach checker runs only when no other rule is violated. If it fails,
// Validate returns an error wrapping [ErrBreachCheck] (a server failure,
// answered 503), never nil.
func (p *PasswordPolicy) Validate(ctx context.Context, password string, owner PasswordOwner) error {
	var v []Violation
	add := func(c ViolationCode, format string, args ...any) {
		v = append(v, Violation{Code: c, Message: fmt.Sprintf(format, args...)})
	}
	// A huge input is refused before any per-character work.
	if len(password) > 4*p.cfg.MaxLength {
		add(ViolationTooLong, "use at most %d characters", p.cfg.MaxLength)
		return (&PolicyError{Violations: v}).authError()
	}
	n := utf8.RuneCountInString(password)
	if n < p.cfg.MinLength {
		add(ViolationTooShort, "use at least %d characters", p.cfg.MinLength)
	}
	if n > p.cfg.MaxLength {
		add(ViolationTooLong, "use at most %d characters", p.cfg.MaxLength)
	}
	var upper, lower, digit, symbol, bad bool
	for _, r := range password {
		switch {
		case r == utf8.RuneError || unicode.IsControl(r):
			bad = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		case !unicode.IsLetter(r):
			symbol = true
		}
	}
	if bad || !utf8.ValidString(password) {
		add(ViolationInvalidCharacter, "use only printable characters encoded as UTF-8")
	}
	lowered := strings.ToLower(password)
	if p.blocklist != nil && p.isCommon(lowered) {
		add(ViolationCommon, "this password is too common")
	}
	if n > 0 && repetitive([]rune(lowered)) {
		add(ViolationRepetitive, "avoid repeated or sequential characters")
	}
	if containsPart(lowered, owner.Username) {
		add(ViolationContainsUsername, "the password must not contain the username")
	}
	if at := strings.LastIndexByte(owner.Email, '@'); at > 0 && containsPart(lowered, owner.Email[:at]) {
		add(ViolationContainsEmail, "the password must not contain the email address")
	}
	for _, w := range p.context {
		if strings.Contains(lowered, w) {
			add(ViolationContextWord, "the password must not contain the name of this service")
			break
		}
	}
	if p.cfg.RequireUppercase && !upper {
		add(ViolationNoUppercase, "include an uppercase letter")
	}
	if p.cfg.RequireLowercase && !lower {
		add(ViolationNoLowercase, "include a lowercase letter")
	}
	if p.cfg.RequireDigit && !digit {
		add(ViolationNoDigit, "include a digit")
	}
	if p.cfg.RequireSymbol && !symbol {
		add(ViolationNoSymbol, "include a symbol")
	}
	if len(v) > 0 {
		return (&PolicyError{Violations: v}).authError()
	}
	if p.cfg.Breach != nil {
		breached, err := p.cfg.Breach.Breached(ctx, password)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBreachCheck, err)
		}
		if breached {
			add(ViolationBreached, "this password appeared in a data breach")
			return (&PolicyError{Violations: v}).authError()
		}
	}
	return nil
}

// isCommon reports whether the lower-cased password is on the blocklist,
// either as is or once digits, spaces and symbols added at either end are
// taken away ("Dragon2024!" is "dragon" with decoration).
func (p *PasswordPolicy) isCommon(lowered string) bool {
	if p.blocklist.contains(lowered) {
		return true
	}
	core := strings.TrimFunc(lowered, func(r rune) bool { return !unicode.IsLetter(r) })
	return core != "" && core != lowered && p.blocklist.contains(core)
}

// containsPart reports whether lowered contains part, compared
// case-insensitively, when part has at least 3 characters.
func containsPart(lowered, part string) bool {
	if utf8.RuneCountInString(part) < minContainsLength {
		return false
	}
	return strings.Contains(lowered, strings.ToLower(part))
}

// repetitive reports whether s is one short unit (up to 4 characters)
// repeated ("aaaaaaaaaaaa", "abcabcabcabc"), or a run of characters each one
// above or each one below the previous ("abcdefghijkl", "987654321").
func repetitive(s []rune) bool {
	for unit := 1; unit <= 4 && unit < len(s); unit++ {
		if len(s)%unit != 0 {
			continue
		}
		same := true
		for i := unit; i < len(s) && same; i++ {
			same = s[i] == s[i-unit]
		}
		if same {
			return true
		}
	}
	if len(s) < 3 {
		return false
	}
	step := s[1] - s[0]
	if step != 1 && step != -1 {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i]-s[i-1] != step {
			return false
		}
	}
	return true
}
