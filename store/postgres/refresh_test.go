package postgres_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/jwtprovider"
	"github.com/gatehouse-auth/gatehouse/jwtprovider/jwtprovidertest"
)

func TestRefreshStoreConformance(t *testing.T) {
	jwtprovidertest.RunRefreshStore(t, func(t *testing.T) jwtprovider.RefreshStore {
		db, _ := newDB(t)
		return db.RefreshFamilies()
	})
}
