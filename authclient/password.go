package authclient

import (
	"context"
	"net/http"
)

// PasswordService changes the caller's password (the /password routes). Get
// it from [Client.Password]; it is safe for concurrent use.
type PasswordService struct{ c *Client }

// Change changes the caller's password (POST /password/change). The server
// revokes the caller's tokens when it succeeds; a client in password mode
// then forgets its pair and logs in with the new password from the next
// request on.
func (s *PasswordService) Change(ctx context.Context, oldPassword, newPassword string) error {
	in := struct {
		OldPassword string `json:"old_password"`
		NewPassword string `json:"new_password"`
	}{oldPassword, newPassword}
	if err := s.c.call(ctx, http.MethodPost, "/password/change", in, nil); err != nil {
		return err
	}
	c := s.c
	c.mu.Lock()
	if c.hasPass {
		c.password = newPassword
		c.tok = tokenState{gen: c.tok.gen + 1}
	}
	c.mu.Unlock()
	return nil
}
