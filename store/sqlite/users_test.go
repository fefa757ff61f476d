package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/basic/basictest"
	"github.com/gatehouse-auth/gatehouse/store/sqlite"
)

func TestUserStoreConformance(t *testing.T) {
	basictest.Run(t, func(t *testing.T) basic.UserStore {
		db := newDB(t)
		return db.Users()
	})
}

func TestResetTokenStoreConformance(t *testing.T) {
	basictest.RunResetTokens(t, func(t *testing.T) basic.ResetTokenStore {
		db := newDB(t)
		return db.Users()
	})
}

func TestResetTokensKeepTheNewestPerUser(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	s := db.Users()
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	// Decoys for unknown addresses share the empty user ID: a flood of
	// them must not grow the table.
	for i := range sqlite.MaxResetTokensPerUser + 2 {
		tok := basic.ResetToken{Hash: fmt.Sprintf("h%d", i), Stamp: "s", CreatedAt: base.Add(time.Duration(i) * time.Second), ExpiresAt: base.Add(time.Hour)}
		if err := s.SaveResetToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	for i := range sqlite.MaxResetTokensPerUser + 2 {
		_, err := s.GetResetToken(ctx, fmt.Sprintf("h%d", i), base)
		if kept := i >= 2; kept != (err == nil) {
			t.Errorf("token %d: kept = %v, want %v (error %v)", i, err == nil, kept, err)
		}
	}
}
