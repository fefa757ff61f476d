package mfa_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/mfa"
	"github.com/gatehouse-auth/gatehouse/mfa/mfatest"
)

func TestMemoryStoreConformance(t *testing.T) {
	mfatest.Run(t, func(t *testing.T) mfa.Store { return mfa.NewMemoryStore() })
}

func TestCombinedStoreConformance(t *testing.T) {
	mfatest.Run(t, func(t *testing.T) mfa.Store {
		return mfa.Combine(mfa.NewMemoryStore(), mfa.NewMemoryStore(), mfa.NewMemoryStore())
	})
}
