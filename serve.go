package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"credprops/access"
	"credprops/auth"
	"credprops/bootstrap"
	"credprops/server"
	"credprops/store"
)

// httpFlags are the limits of the HTTP server.
type httpFlags struct {
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	shutdownTimeout   time.Duration
	maxHeaderBytes    int
}

func (h *httpFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&h.readHeaderTimeout, "read-header-timeout", 10*time.Second,
		"time allowed to read a request's headers")
	fs.DurationVar(&h.readTimeout, "read-timeout", 30*time.Second,
		"time allowed to read a whole request, body included")
	fs.DurationVar(&h.writeTimeout, "write-timeout", 30*time.Second,
		"time allowed from the end of reading a request's headers to the end of writing the response")
	fs.DurationVar(&h.idleTimeout, "idle-timeout", 120*time.Second,
		"time a keep-alive connection may wait for its next request")
	fs.DurationVar(&h.shutdownTimeout, "shutdown-timeout", 15*time.Second,
		"time a stopping server waits for in-flight requests before it closes their connections")
	fs.IntVar(&h.maxHeaderBytes, "max-header-bytes", 64<<10,
		"largest size of a request's headers, in bytes; larger ones get 431")
}

// validate returns an error naming the first limit that is not positive.
// Zero would mean no limit to net/http.
func (h *httpFlags) validate() error {
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"read-header-timeout", h.readHeaderTimeout},
		{"read-timeout", h.readTimeout},
		{"write-timeout", h.writeTimeout},
		{"idle-timeout", h.idleTimeout},
		{"shutdown-timeout", h.shutdownTimeout},
	} {
		if d.value <= 0 {
			return fmt.Errorf("invalid --%s %s: it must be positive", d.name, d.value)
		}
	}
	if h.maxHeaderBytes <= 0 {
		return fmt.Errorf("invalid --max-header-bytes %d: it must be positive", h.maxHeaderBytes)
	}
	return nil
}

// server returns the HTTP server for handler with these limits.
func (h *httpFlags) server(handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: h.readHeaderTimeout,
		ReadTimeout:       h.readTimeout,
		WriteTimeout:      h.writeTimeout,
		IdleTimeout:       h.idleTimeout,
		MaxHeaderBytes:    h.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	var common commonFlags
	fs := newFlagSet("serve", stderr, &common)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on, host:port")
	bootstrapFile := fs.String("bootstrap", "", "bootstrap file (YAML) to apply before serving")
	jwtKeys := fs.String("jwt-keys", "", "PEM or JWKS file of RSA and P-256 public keys for RS256 and ES256 tokens")
	var claims jwtFlags
	claims.register(fs)
	var limits httpFlags
	limits.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	if err := limits.validate(); err != nil {
		return err
	}

	log, err := newLogger(stderr, common.logFormat, common.logLevel)
	if err != nil {
		return err
	}

	// Listening first fails fast on a busy port, before the database file
	// is created or changed.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w; choose another address with --listen or CREDPROPS_LISTEN", *listen, err)
	}
	defer ln.Close()

	st, err := store.Open(ctx, common.db, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close database", "error", err)
		}
	}()

	demo, err := seed(ctx, st, *bootstrapFile, log)
	if err != nil {
		return err
	}

	secret, err := jwtSecret(ctx, st)
	if err != nil {
		return err
	}
	verifier, err := auth.NewVerifier(auth.Config{
		Secret:   secret,
		KeysFile: *jwtKeys,
		Issuer:   claims.issuer,
		Audience: claims.audience,
	})
	if err != nil {
		return err
	}

	handler, err := server.New(server.Config{Store: st, Verifier: verifier, Logger: log, OpenAPI: openAPI})
	if err != nil {
		return err
	}

	addr := ln.Addr().String()
	log.Info("listening", "addr", addr, "db", common.db, "version", version(),
		"jwt_algorithms", strings.Join(verifier.Methods(), ","))
	if demo {
		if err := logDemo(log, addr, secret, claims); err != nil {
			return err
		}
	}

	return serveUntilDone(ctx, limits.server(handler, log), ln, limits.shutdownTimeout, log)
}

// serveUntilDone serves on ln until ctx is canceled, then lets in-flight
// requests finish for up to shutdownTimeout.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, shutdownTimeout time.Duration, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down", "timeout", shutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	log.Info("stopped")
	return nil
}

// seed applies the bootstrap file when one is given, or loads the demo data
// set into an empty database. It reports whether it loaded the demo data.
func seed(ctx context.Context, st *store.Store, file string, log *slog.Logger) (bool, error) {
	if file != "" {
		return false, loadFile(ctx, st, file, log)
	}

	empty, err := st.Empty(ctx)
	if err != nil || !empty {
		return false, err
	}
	report, err := st.Load(ctx, bootstrap.Demo())
	if err != nil {
		return false, fmt.Errorf("load demo data: %w", err)
	}
	log.Info("loaded demo data into the empty database", report.LogAttrs()...)
	return true, nil
}

// logDemo logs a one-hour token for the demo data's Root user and a curl
// command that reads the first active demo credential with it. This is the
// only place credprops logs a token: it is for trying the demo data.
func logDemo(log *slog.Logger, addr string, secret []byte, claims jwtFlags) error {
	seed := bootstrap.Demo()
	admin, cred, client := demoTargets(seed)
	if admin == "" || cred == nil {
		return errors.New("demo data has no Root user or no active credential")
	}

	signed, err := auth.Sign(secret, admin, time.Hour, claims.issuer, claims.audience)
	if err != nil {
		return fmt.Errorf("sign demo token: %w", err)
	}
	url := fmt.Sprintf("http://%s/nevisidm/api/core/v1/%s/users/%s/generic-credentials/%s/properties",
		addr, client, cred.User, cred.ExtID)
	log.Info("demo data: try it",
		"user", admin,
		"token", signed,
		"url", url,
		"curl", fmt.Sprintf("curl -s -H 'Authorization: Bearer %s' %s", signed, url))
	return nil
}

// demoTargets returns the seed's first Root user, its first credential that
// is not archived, and that credential's client.
func demoTargets(seed store.Seed) (admin string, cred *store.SeedCredential, client string) {
	clientOf := map[string]string{}
	for _, u := range seed.Users {
		clientOf[u.ExtID] = u.Client
		for _, r := range u.Roles {
			if r.Name == access.RoleRoot && admin == "" {
				admin = u.ExtID
			}
		}
	}
	for i, c := range seed.Credentials {
		if c.StateName != store.StateArchived {
			return admin, &seed.Credentials[i], clientOf[c.User]
		}
	}
	return admin, nil, ""
}
