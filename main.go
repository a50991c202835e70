package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

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
	switch {
	case len(args) == 1 && strings.Contains(" -h -help --help -version --version ", " "+args[0]+" "):
		command, args = args[0], nil
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
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
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "-version", "--version":
		fmt.Fprintln(stdout, "credprops", version())
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

func newFlagSet(name string, stderr io.Writer, common *commonFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&common.db, "db", "credprops.db", "SQLite database file, created when missing")
	fs.StringVar(&common.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&common.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return fs
}

// open returns the logger and the opened database that the flags name.
func (c commonFlags) open(ctx context.Context, stderr io.Writer) (*store.Store, *slog.Logger, error) {
	log, err := newLogger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, c.db, log)
	if err != nil {
		return nil, nil, err
	}
	return st, log, nil
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
