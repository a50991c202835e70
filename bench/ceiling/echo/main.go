// Command echo serves the read ceiling of the load test: a bare Echo server
// with no middleware. It responds to GET on the credprops properties route
// with a constant JSON map of ten properties, about the size of a GET
// response of the seeded data set, and runs until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

var body = []byte(`{"prop00":"value-0-0","prop01":"value-0-1","prop02":"value-0-2",` +
	`"prop03":"value-0-3","prop04":"value-0-4","prop05":"value-0-5","prop06":"value-0-6",` +
	`"prop07":"value-0-7","prop08":"value-0-8","prop09":"value-0-9"}`)

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "address to listen on, host:port")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := serve(ctx, *listen); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling/echo:", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, listen string) error {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.GET("/nevisidm/api/core/v1/:clientExtId/users/:userExtId/generic-credentials/:extId/properties",
		func(c echo.Context) error {
			return c.JSONBlob(http.StatusOK, body)
		})

	// The timeouts are those of credprops serve.
	srv := &http.Server{
		Addr:              listen,
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
