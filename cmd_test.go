package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"credprops/auth"
	"credprops/store"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const goodBootstrap = `clients:
  - {extId: acme, name: ACME}
users:
  - {extId: ops, client: acme, roles: [{name: Root}]}
properties:
  - {name: note}
credentials:
  - {extId: cred-1, user: ops, identification: ops-1, properties: {note: hello}}
`

func storedNote(t *testing.T, db string) (string, error) {
	t.Helper()
	st, err := store.Open(context.Background(), db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	props, err := st.Properties(context.Background(),
		store.CredentialRef{ClientExtID: "acme", UserExtID: "ops", ExtID: "cred-1"}, store.OverrideAccess)
	return props["note"], err
}

func TestLoadCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "load.db")
	var stderr bytes.Buffer

	err := run(context.Background(), []string{"load", writeFile(t, "good.yaml", goodBootstrap), "--db", db}, io.Discard, &stderr)

	if err != nil {
		t.Fatalf("load error = %v; log: %s", err, stderr.String())
	}
	if note, err := storedNote(t, db); err != nil || note != "hello" {
		t.Errorf("stored note = %q, %v; want hello", note, err)
	}
}

func TestLoadCommand_ErrorNamesLineAndChangesNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "load.db")
	if err := run(context.Background(), []string{"load", writeFile(t, "good.yaml", goodBootstrap), "--db", db}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(goodBootstrap, "note: hello", "note: changed", 1) +
		"  - {extId: cred-2, user: ghost, identification: x}\n"
	file := writeFile(t, "bad.yaml", bad)

	err := run(context.Background(), []string{"load", file, "--db", db}, io.Discard, io.Discard)

	if err == nil || !strings.Contains(err.Error(), "line 9") {
		t.Fatalf("load error = %v, want one naming line 9", err)
	}
	if note, err := storedNote(t, db); err != nil || note != "hello" {
		t.Errorf("stored note = %q, %v; want hello, unchanged", note, err)
	}
}

func TestTokenCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "token.db")
	if err := run(context.Background(), []string{"load", writeFile(t, "good.yaml", goodBootstrap), "--db", db}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer

	err := run(context.Background(), []string{"token", "--user", "ops", "--ttl", "5m", "--db", db}, &stdout, io.Discard)

	if err != nil {
		t.Fatalf("token error = %v", err)
	}
	st, err := store.Open(context.Background(), db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secret, err := st.Secret(context.Background(), secretName)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	if sub, err := v.Verify(strings.TrimSpace(stdout.String())); err != nil || sub != "ops" {
		t.Errorf("Verify(token) = %q, %v; want ops", sub, err)
	}
}

func TestTokenCommand_UnknownUser(t *testing.T) {
	db := filepath.Join(t.TempDir(), "token.db")
	if err := run(context.Background(), []string{"load", writeFile(t, "good.yaml", goodBootstrap), "--db", db}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}

	err := run(context.Background(), []string{"token", "--user", "ghost", "--db", db}, io.Discard, io.Discard)

	if err == nil || !strings.Contains(err.Error(), `no user with extId "ghost"`) {
		t.Errorf("token error = %v, want one naming the unknown user", err)
	}
}

func TestParseFlags_Environment(t *testing.T) {
	t.Setenv("CREDPROPS_DB", "from-env.db")
	t.Setenv("CREDPROPS_LOG_LEVEL", "debug")
	var common commonFlags
	fs := newFlagSet("test", io.Discard, &common)

	if err := parseFlags(fs, []string{"--log-level", "warn"}); err != nil {
		t.Fatal(err)
	}

	if common.db != "from-env.db" {
		t.Errorf("db = %q, want from-env.db from CREDPROPS_DB", common.db)
	}
	if common.logLevel != "warn" {
		t.Errorf("log level = %q, want warn: the flag wins over CREDPROPS_LOG_LEVEL", common.logLevel)
	}
}

func TestJWTSecret_Environment(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	t.Setenv("CREDPROPS_JWT_SECRET", "short")
	if _, err := jwtSecret(context.Background(), st); err == nil {
		t.Error("a 5-byte CREDPROPS_JWT_SECRET was accepted, want an error")
	}

	t.Setenv("CREDPROPS_JWT_SECRET", strings.Repeat("k", 32))
	if got, err := jwtSecret(context.Background(), st); err != nil || string(got) != strings.Repeat("k", 32) {
		t.Errorf("jwtSecret = %q, %v; want the environment's secret", got, err)
	}
}

func TestJWTSecret_GeneratedOnceAndKept(t *testing.T) {
	t.Setenv("CREDPROPS_JWT_SECRET", "") // restores the variable after the test
	os.Unsetenv("CREDPROPS_JWT_SECRET")
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	first, err := jwtSecret(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	second, err := jwtSecret(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}

	if len(first) < minSecretLen {
		t.Errorf("generated secret has %d bytes, want at least %d", len(first), minSecretLen)
	}
	if !bytes.Equal(first, second) {
		t.Error("second call returned another secret, want the stored one")
	}
}

func TestHTTPFlags(t *testing.T) {
	// limits are the fields of http.Server that the flags set.
	type limits struct {
		readHeader, read, write, idle time.Duration
		maxHeaderBytes                int
	}
	cases := []struct {
		desc string
		args []string
		env  map[string]string
		want limits
	}{
		{"defaults", nil, nil, limits{10 * time.Second, 30 * time.Second, 30 * time.Second, 120 * time.Second, 64 << 10}},
		{"flags", []string{"--read-header-timeout", "2s", "--read-timeout", "3s", "--write-timeout", "4s",
			"--idle-timeout", "5s", "--max-header-bytes", "8192"}, nil,
			limits{2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second, 8192}},
		{"environment, flag wins", []string{"--read-timeout", "3s"},
			map[string]string{"CREDPROPS_READ_TIMEOUT": "9s", "CREDPROPS_IDLE_TIMEOUT": "7s", "CREDPROPS_MAX_HEADER_BYTES": "2048"},
			limits{10 * time.Second, 3 * time.Second, 30 * time.Second, 7 * time.Second, 2048}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			for name, value := range c.env {
				t.Setenv(name, value)
			}
			var flags httpFlags
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			flags.register(fs)

			if err := parseFlags(fs, c.args); err != nil {
				t.Fatal(err)
			}
			if err := flags.validate(); err != nil {
				t.Fatal(err)
			}
			srv := flags.server(http.NotFoundHandler(), slog.New(slog.NewTextHandler(io.Discard, nil)))

			got := limits{srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes}
			if got != c.want {
				t.Errorf("server limits = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestHTTPFlags_ShutdownTimeout(t *testing.T) {
	t.Setenv("CREDPROPS_SHUTDOWN_TIMEOUT", "3s")
	var flags httpFlags
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	flags.register(fs)

	if err := parseFlags(fs, nil); err != nil {
		t.Fatal(err)
	}

	if flags.shutdownTimeout != 3*time.Second {
		t.Errorf("shutdown timeout = %s, want 3s from CREDPROPS_SHUTDOWN_TIMEOUT", flags.shutdownTimeout)
	}
}

func TestServeCommand_InvalidLimits(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--read-header-timeout", "0s"}, "invalid --read-header-timeout 0s: it must be positive"},
		{[]string{"--write-timeout", "-1s"}, "invalid --write-timeout -1s: it must be positive"},
		{[]string{"--shutdown-timeout", "0s"}, "invalid --shutdown-timeout 0s: it must be positive"},
		{[]string{"--max-header-bytes", "0"}, "invalid --max-header-bytes 0: it must be positive"},
		{[]string{"--idle-timeout", "soon"}, `invalid value "soon" for flag -idle-timeout`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "serve.db")
			args := append([]string{"serve", "--db", db}, c.args...)

			err := run(context.Background(), args, io.Discard, io.Discard)

			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("serve error = %v, want %q", err, c.want)
			}
			if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("serve created %s, want it to stop before opening the database", db)
			}
		})
	}
}

func TestServe_BusyPortLeavesDatabaseAlone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	db := filepath.Join(t.TempDir(), "busy.db")

	err = run(context.Background(), []string{"serve", "--db", db, "--listen", ln.Addr().String()}, io.Discard, io.Discard)

	if err == nil || !strings.Contains(err.Error(), "--listen") {
		t.Errorf("serve error = %v, want one pointing to --listen", err)
	}
	if _, statErr := os.Stat(db); !os.IsNotExist(statErr) {
		t.Errorf("serve created %s before it could listen", db)
	}
}

func TestRun_HelpAndVersionFlags(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "help", "--version", "version"} {
		t.Run(arg, func(t *testing.T) {
			var stdout bytes.Buffer

			err := run(context.Background(), []string{arg}, &stdout, io.Discard)

			if err != nil {
				t.Fatalf("run %s error = %v, want none", arg, err)
			}
			if !strings.Contains(stdout.String(), "credprops") {
				t.Errorf("run %s printed %q, want usage or version", arg, stdout.String())
			}
		})
	}
}

func TestTokenCommand_MissingDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "missing.db")

	err := run(context.Background(), []string{"token", "--user", "ops", "--db", db}, io.Discard, io.Discard)

	if err == nil || !strings.Contains(err.Error(), "--db") {
		t.Errorf("token error = %v, want one pointing to --db", err)
	}
	if _, statErr := os.Stat(db); !os.IsNotExist(statErr) {
		t.Errorf("token created %s", db)
	}
}
