package session_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/middleware"
	"github.com/gatehouse-auth/gatehouse/session"
)

// A dashboard logs a user in with a session cookie, then serves a
// state-changing route to the same origin and refuses it to a forged
// cross-site form.
func Example() {
	sessions, err := session.New(session.Config{})
	if err != nil {
		panic(err)
	}
	defer sessions.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// The password check is the host's; here it always succeeds.
		user := &auth.Principal{Subject: "u-42", Username: "ops", Roles: []string{"engineer"}, Method: auth.MethodBasic}
		if _, err := sessions.Create(r.Context(), w, user, session.Meta{}); err != nil {
			middleware.WriteError(w, r, err)
		}
	})
	protected := middleware.Authenticate([]auth.Authenticator{sessions})
	mux.Handle("POST /api/v1/predictions", protected(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		io.WriteString(w, "prediction stored for "+p.Username)
	})))
	srv := sessions.LoadAndSave(mux)

	login := httptest.NewRecorder()
	srv.ServeHTTP(login, httptest.NewRequest("POST", "https://plant.example/login", nil))
	cookie := login.Result().Cookies()[0]
	fmt.Printf("cookie %s: Secure=%v HttpOnly=%v SameSite=Strict:%v Path=%s\n",
		cookie.Name, cookie.Secure, cookie.HttpOnly, cookie.SameSite == http.SameSiteStrictMode, cookie.Path)

	post := func(site string) {
		r := httptest.NewRequest("POST", "https://plant.example/api/v1/predictions", nil)
		r.AddCookie(cookie)
		r.Header.Set("Sec-Fetch-Site", site)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		fmt.Printf("%s: %d %s", site, w.Code, w.Body)
	}
	post("same-origin")
	fmt.Println()
	post("cross-site")
	// Output:
	// cookie __Host-session: Secure=true HttpOnly=true SameSite=Strict:true Path=/
	// same-origin: 200 prediction stored for ops
	// cross-site: 403 {"error":"insufficient_permissions","error_description":"cross-origin request rejected"}
}

// Owners see their sessions and can end the others ("log out my other
// devices").
func ExampleManager_RevokeOthers() {
	sessions, err := session.New(session.Config{})
	if err != nil {
		panic(err)
	}
	defer sessions.Close()
	user := &auth.Principal{Subject: "u-7", Username: "shift-lead"}
	var current *auth.Principal
	for _, device := range []string{"laptop", "tablet", "phone"} {
		ctx := auth.WithRequestMeta(httptest.NewRequest("POST", "/", nil).Context(), auth.RequestMeta{UserAgent: device})
		current, _ = sessions.Create(ctx, httptest.NewRecorder(), user, session.Meta{})
	}
	list, _ := sessions.List(context.Background(), user.Subject)
	fmt.Println("sessions:", len(list))
	n, _ := sessions.RevokeOthers(context.Background(), user.Subject, current.CredentialID)
	list, _ = sessions.List(context.Background(), user.Subject)
	fmt.Println("revoked:", n, "left:", len(list), list[0].UserAgent)
	// Output:
	// sessions: 3
	// revoked: 2 left: 1 phone
}
