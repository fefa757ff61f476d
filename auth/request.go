package auth

import "context"

// RequestMeta describes the HTTP request an operation runs for. Middleware
// (middleware.RequestID, the ratelimit client-IP resolver) stores it in the
// request context; components copy it into the events they emit.
type RequestMeta struct {
	// RequestID is the sanitised X-Request-ID of the request.
	RequestID string
	// ClientIP is the client address: the socket peer unless a trusted-proxy
	// resolver replaced it.
	ClientIP string
	// UserAgent is the User-Agent header, truncated.
	UserAgent string
}

type requestMetaKey struct{}

// WithRequestMeta returns a copy of ctx carrying m.
func WithRequestMeta(ctx context.Context, m RequestMeta) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, m)
}

// RequestMetaFrom returns the RequestMeta stored in ctx, or the zero value.
func RequestMetaFrom(ctx context.Context) RequestMeta {
	m, _ := ctx.Value(requestMetaKey{}).(RequestMeta)
	return m
}
