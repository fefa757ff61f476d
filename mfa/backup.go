package mfa

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/internal/secure"
)

// BackupCodeBits is the entropy of one backup code: 12 symbols of 5 bits.
const BackupCodeBits = backupLen * 5

// newBackupCode returns a random backup code formatted for people:
// "XXXX-XXXX-XXXX" in Crockford base32 (60 bits).
func newBackupCode() string {
	v := binary.BigEndian.Uint64(secure.RandomBytes(8)) >> (64 - BackupCodeBits)
	var out [backupLen + 2]byte
	j := len(out) - 1
	for i := range backupLen {
		if i > 0 && i%4 == 0 {
			out[j] = '-'
			j--
		}
		out[j] = crockford[v&31]
		v >>= 5
		j--
	}
	return string(out[:])
}

// backupHash returns the stored form of a canonical backup code of userID:
// hex SHA-256 over a domain label, the user ID and the code. Binding the user
// ID makes equal codes of two users hash differently.
func backupHash(userID, canonical string) string {
	h := sha256.New()
	h.Write([]byte("gatehouse/mfa/backup-code\x00"))
	h.Write([]byte(userID))
	h.Write([]byte{0})
	h.Write([]byte(canonical))
	return hex.EncodeToString(h.Sum(nil))
}

// sentCodeHash returns the stored form of a sent code of userID.
func sentCodeHash(userID, code string) string {
	h := sha256.New()
	h.Write([]byte("gatehouse/mfa/sent-code\x00"))
	h.Write([]byte(userID))
	h.Write([]byte{0})
	h.Write([]byte(code))
	return hex.EncodeToString(h.Sum(nil))
}

// newBackupCodes returns n codes and their hashes for userID.
func newBackupCodes(userID string, n int) (codes, hashes []string) {
	codes = make([]string, 0, n)
	hashes = make([]string, 0, n)
	seen := make(map[string]bool, n)
	for len(codes) < n {
		c := newBackupCode()
		_, canon, err := parseCode(c)
		if err != nil || seen[canon] {
			continue
		}
		seen[canon] = true
		codes = append(codes, c)
		hashes = append(hashes, backupHash(userID, canon))
	}
	return codes, hashes
}

// RegenerateBackupCodes replaces the user's backup codes with a new set and
// returns the codes, to be shown once; the old codes stop working at once.
// The user must have TOTP turned on (backup codes stand in for the
// authenticator app); otherwise the error is conflict wrapping
// [ErrNotEnabled]. With backup codes disabled in the config it returns no
// codes and removes any old ones.
func (m *Manager) RegenerateBackupCodes(ctx context.Context, u User) ([]string, error) {
	if u.ID == "" {
		return nil, errNoUserID
	}
	rec, err := m.store.GetTOTP(ctx, u.ID)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("mfa: reading TOTP enrolment: %w", err)
	}
	if err != nil || !rec.Confirmed() {
		return nil, auth.WrapError(auth.CodeConflict, "no second factor is turned on", ErrNotEnabled)
	}
	codes, hashes := newBackupCodes(u.ID, m.cfg.BackupCodes)
	if err := m.store.ReplaceBackupCodes(ctx, u.ID, hashes); err != nil {
		return nil, fmt.Errorf("mfa: storing backup codes: %w", err)
	}
	e := m.event(ctx, auth.EventMFAEnabled, u.ID, u.Name, "backup_codes_regenerated")
	e.Attrs = map[string]string{"factor": string(MethodBackupCode), "remaining": strconv.Itoa(len(codes))}
	auth.Emit(m.cfg.Events, e)
	return codes, nil
}
