package sqlite_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/session"
	"github.com/gatehouse-auth/gatehouse/session/sessiontest"
)

func TestSessionStoreConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		return newDB(t).Sessions()
	})
}
