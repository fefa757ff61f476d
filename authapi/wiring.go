package authapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/apikey"
	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/basic"
	"github.com/gatehouse-auth/gatehouse/jwtprovider"
)

// KeyOwners adapts Users to apikey.OwnerLookup: a key acts with its owner's
// current roles, a disabled owner disables the key, a deleted owner makes it
// unknown.
func KeyOwners(users *basic.Users) apikey.OwnerLookup { return keyOwners{users} }

type keyOwners struct{ users *basic.Users }

func (o keyOwners) Owner(ctx context.Context, ownerID string) (*auth.Principal, error) {
	u, err := o.users.Get(ctx, ownerID)
	switch {
	case errors.Is(err, basic.ErrNotFound):
		return nil, fmt.Errorf("authapi: key owner %q: %w", ownerID, apikey.ErrNotFound)
	case err != nil:
		return nil, err
	case u.Disabled:
		return nil, fmt.Errorf("authapi: key owner %q: %w", ownerID, apikey.ErrOwnerDisabled)
	}
	return u.Principal(auth.MethodAPIKey), nil
}

// ReloadSubject returns a jwtprovider.Config.ReloadSubject that refreshes a
// token's username, email and roles from the user store at every refresh, so
// that a demotion takes effect at the next refresh, and refuses refreshes for
// disabled or deleted users. Scopes and the MFA state of the refresh family
// are kept as they are.
func ReloadSubject(users *basic.Users) func(ctx context.Context, s jwtprovider.Subject) (jwtprovider.Subject, error) {
	return func(ctx context.Context, s jwtprovider.Subject) (jwtprovider.Subject, error) {
		u, err := users.Get(ctx, s.ID)
		if errors.Is(err, basic.ErrNotFound) {
			return s, auth.WrapError(auth.CodeInvalidToken, "the account no longer exists", err)
		}
		if err != nil {
			return s, err
		}
		if u.Disabled {
			return s, auth.NewError(auth.CodeInvalidToken, "the account is disabled")
		}
		s.Username, s.Email, s.Roles = u.Username, u.Email, u.Roles
		return s, nil
	}
}
