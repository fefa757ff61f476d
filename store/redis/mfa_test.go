package redis_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/mfa/mfatest"
)

func TestMFAStoreConformance(t *testing.T) {
	mfatest.Run(t, func(t *testing.T) mfa.Store {
		db, _, _ := newDB(t)
		return db.MFA()
	})
}
