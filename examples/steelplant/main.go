// Command steelplant is Gatehouse's reference server: a small steel-plant
// defect-prediction service that uses every part of Gatehouse.
//
//	go run ./examples/steelplant            # listens on localhost:8000
//	go run ./examples/steelplant -help      # every flag
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger); err != nil {
		logger.Error("steelplant stopped", "error", err)
		os.Exit(1)
	}
}

// config holds the command-line settings.
type config struct {
	addr           string
	rateLimit      int      // requests per minute per client IP on /api/v1/
	trustedProxies []string // CIDRs whose X-Forwarded-For is believed
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("steelplant", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "localhost:8000", "address to listen on")
	fs.IntVar(&cfg.rateLimit, "rate-limit", 300, "requests per minute per client IP on /api/v1/")
	fs.Func("trusted-proxy", "CIDR of a reverse proxy whose X-Forwarded-For is trusted (repeatable)", func(s string) error {
		cfg.trustedProxies = append(cfg.trustedProxies, s)
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: steelplant [flags]\n\nThe Gatehouse reference server.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	err := fs.Parse(args)
	return cfg, err
}

func run(ctx context.Context, cfg config, logger *slog.Logger) error {
	app, err := newApp(cfg, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	logger.Info("steelplant listening", "addr", "http://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
