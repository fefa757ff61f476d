package server_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/oauth2provider/server"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/server/servertest"
)

func TestMemoryStore(t *testing.T) {
	servertest.Run(t, func(t *testing.T) server.Store { return server.NewMemoryStore() })
}
