package jwtprovider_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/jwtprovider/jwtprovidertest"
)

func TestMemoryRefreshStoreConformance(t *testing.T) {
	jwtprovidertest.RunRefreshStore(t, func(*testing.T) jwtprovider.RefreshStore {
		return jwtprovider.NewMemoryRefreshStore()
	})
}

func TestMemoryRevocationStoreConformance(t *testing.T) {
	jwtprovidertest.RunRevocationStore(t, func(*testing.T) jwtprovider.RevocationStore {
		return jwtprovider.NewMemoryRevocationStore()
	})
}
