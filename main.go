package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"credprops/access"
	"credprops/auth"
	"credprops/bootstrap"
	"credprops/server"
	"credprops/store"
)

// openAPI is the contract, openapi.yaml, as written. The server serves it
// unchanged at /openapi.yaml.
//
//go:embed openapi.yaml
var openAPI []byte

const usage = `credprops serves the generic-credential properties API of nevisIDM.

Usage:
  credprops [serve] [flags]    serve the API (the default command)
  credprops load FILE [flags]  apply a bootstrap file, all or nothing, then exit
  credprops token --user EXTID [--ttl 1h] [flags]
                               print an HS256 token for that user
  credprops version            print the version

Every flag can also be set with the environment variable CREDPROPS_<FLAG>,
for example CREDPROPS_DB=/var/lib/credprops.db; a flag on the command line
wins. Run "credprops COMMAND -h" for the flags of a command.

The HS256 secret comes from CREDPROPS_JWT_SECRET (at least 32 bytes) or,
when that is unset, from a random secret generated on first start and kept
in the database.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "credprops:", err)
		}
		os.Exit(2)
	}
}

// run executes the command named by args until ctx is canceled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	command := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		command, args = args[0], args[1:]
	}

	switch command {
	case "serve":
		return serve(ctx, args, stderr)
	case "load":
		return load(ctx, args, stderr)
	case "token":
		return token(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "credprops", version())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", command)
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}

// commonFlags are the flags that every command touching the database takes.
type commonFlags struct {
	db        string
	logFormat string
	logLevel  string
}

// jwtFlags are the token claims that serve checks and token writes.
type jwtFlags struct {
	issuer   string
	audience string
}

func (j *jwtFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&j.issuer, "jwt-issuer", "", "required iss claim of tokens; empty to accept any")
	fs.StringVar(&j.audience, "jwt-audience", "", "required aud claim of tokens; empty to accept any")
}

// minSecretLen is the shortest HS256 secret accepted, in bytes: the size of
// the SHA-256 output, as RFC 7518 section 3.2 requires.
const minSecretLen = 32

// secretName is the database setting that keeps the generated HS256 secret.
const secretName = "jwt-hs256-secret"

// jwtSecret returns CREDPROPS_JWT_SECRET when set, or the secret kept in
// the database, generating it on first use.
func jwtSecret(ctx context.Context, st *store.Store) ([]byte, error) {
	if env, ok := os.LookupEnv("CREDPROPS_JWT_SECRET"); ok {
		if len(env) < minSecretLen {
			return nil, fmt.Errorf("CREDPROPS_JWT_SECRET has %d bytes; HS256 needs at least %d", len(env), minSecretLen)
		}
		return []byte(env), nil
	}
	secret, err := st.Secret(ctx, secretName)
	if err != nil {
		return nil, err
	}
	return []byte(secret), nil
}

func newFlagSet(name string, stderr io.Writer, common *commonFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&common.db, "db", "credprops.db", "SQLite database file, created when missing")
	fs.StringVar(&common.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&common.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return fs
}

// parseFlags parses args, then sets each flag not given on the command line
// from CREDPROPS_<FLAG> when that variable is set.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}

	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := "CREDPROPS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		value, ok := os.LookupEnv(env)
		if given[f.Name] || !ok {
			return
		}
		if err := f.Value.Set(value); err != nil {
			errs = append(errs, fmt.Errorf("invalid %s %q: %w", env, value, err))
		}
	})
	return errors.Join(errs...)
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid log level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}

	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid log format %q: use text or json", format)
}

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

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
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

func loadFile(ctx context.Context, st *store.Store, file string, log *slog.Logger) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read bootstrap file: %w", err)
	}
	seed, err := bootstrap.Parse(file, data)
	if err != nil {
		return err
	}
	report, err := st.Load(ctx, seed)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	log.Info("applied bootstrap file", append([]any{"file", file}, report.LogAttrs()...)...)
	return nil
}

func load(ctx context.Context, args []string, stderr io.Writer) error {
	var common commonFlags
	fs := newFlagSet("load", stderr, &common)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: credprops load FILE [flags]")
		fs.PrintDefaults()
	}
	// Flags may come before or after FILE.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if file == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("load takes exactly one bootstrap file")
	}

	log, err := newLogger(stderr, common.logFormat, common.logLevel)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, common.db, log)
	if err != nil {
		return err
	}
	defer st.Close()

	return loadFile(ctx, st, file, log)
}

func token(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var common commonFlags
	fs := newFlagSet("token", stderr, &common)
	user := fs.String("user", "", "extId of the user the token names (sub claim); required")
	ttl := fs.Duration("ttl", time.Hour, "how long the token stays valid")
	var claims jwtFlags
	claims.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *user == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("token needs --user EXTID and no arguments")
	}
	if *ttl <= 0 {
		return fmt.Errorf("invalid --ttl %s: it must be positive", *ttl)
	}

	log, err := newLogger(stderr, common.logFormat, common.logLevel)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, common.db, log)
	if err != nil {
		return err
	}
	defer st.Close()

	if _, err := st.Caller(ctx, *user); errors.Is(err, store.ErrUnknownUser) {
		return fmt.Errorf("no user with extId %q in %s", *user, common.db)
	} else if err != nil {
		return err
	}
	secret, err := jwtSecret(ctx, st)
	if err != nil {
		return err
	}
	signed, err := auth.Sign(secret, *user, *ttl, claims.issuer, claims.audience)
	if err != nil {
		return fmt.Errorf("sign token: %w", err)
	}
	fmt.Fprintln(stdout, signed)
	return nil
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
