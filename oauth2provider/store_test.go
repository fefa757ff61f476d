package oauth2provider_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/oauth2provider"
	"github.com/gatehouse-auth/gatehouse/oauth2provider/oauth2providertest"
)

func TestMemoryReplayStore(t *testing.T) {
	oauth2providertest.RunReplayStore(t, func(*testing.T) oauth2provider.ReplayStore {
		return oauth2provider.NewMemoryReplayStore()
	})
}

func TestMemoryTokenStore(t *testing.T) {
	oauth2providertest.RunTokenStore(t, func(*testing.T) oauth2provider.TokenStore {
		return oauth2provider.NewMemoryTokenStore()
	})
}
