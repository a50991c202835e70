package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"credprops/auth"
	"credprops/bootstrap"
	"credprops/store"
)

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

	st, log, err := common.open(ctx, stderr)
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

	// A token for a database that does not exist is of no use, and opening
	// it would create an empty file.
	if _, err := os.Stat(common.db); err != nil {
		return fmt.Errorf("database %s: %w; point --db at the server's database", common.db, err)
	}
	st, _, err := common.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()

	if _, err := st.Caller(ctx, *user); errors.Is(err, store.ErrUnknownUser) {
		return fmt.Errorf("no user with extId %q in %s: point --db at the server's database, or add the user with credprops load", *user, common.db)
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
