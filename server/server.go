// Package server serves the credprops API with Echo: middleware for
// recovery, request IDs, access logs, the body limit and kin-openapi request
// validation, the handlers of the generated strict server interface, and the
// one mapping from errors to ErrorDTO bodies.
package server

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	echomiddleware "github.com/oapi-codegen/echo-middleware"

	"credprops/auth"
	"credprops/gen"
	"credprops/store"
)

// bodyLimit is the largest request body accepted, in bytes (1 MiB).
const bodyLimit = 1 << 20

// Config holds what New needs.
type Config struct {
	Store    *store.Store
	Verifier *auth.Verifier
	Logger   *slog.Logger
}

// Spec loads and validates the OpenAPI document built into the binary.
func Spec() (*openapi3.T, error) {
	spec, err := gen.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("load embedded openapi.yaml: %w", err)
	}
	if err := spec.Validate(openapi3.NewLoader().Context); err != nil {
		return nil, fmt.Errorf("validate embedded openapi.yaml: %w", err)
	}
	return spec, nil
}

// New returns the Echo instance that serves the API. It returns an error
// when the embedded OpenAPI document is invalid.
func New(cfg Config) (*echo.Echo, error) {
	spec, err := Spec()
	if err != nil {
		return nil, err
	}
	// The validator must match any host the server is reached on.
	spec.Servers = nil
	useStrictJSON()

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(cfg.Logger)

	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			cfg.Logger.Error("panic in handler", "request_id", requestID(c), "error", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.RequestID())
	e.Use(accessLog(cfg.Logger))
	e.Use(middleware.BodyLimit(fmt.Sprint(bodyLimit)))
	e.Use(echomiddleware.OapiRequestValidatorWithOptions(spec, &echomiddleware.Options{
		Options: openapi3filter.Options{
			AuthenticationFunc: authenticate(cfg.Store, cfg.Verifier),
			KeepValidatedValue: true,
			// Property values must not end up in error messages.
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
		},
		SilenceServersWarning: true,
	}))

	h := &handlers{store: cfg.Store}
	gen.RegisterHandlers(e, gen.NewStrictHandler(h, []gen.StrictMiddlewareFunc{withCaller}))
	return e, nil
}

// requestID returns the ID that the RequestID middleware gave the request.
func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// accessLog logs one line per request. It never logs headers or bodies,
// which can carry tokens and property values.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		HandleError:  true,
		LogRequestID: true,
		LogMethod:    true,
		LogRoutePath: true,
		LogStatus:    true,
		LogLatency:   true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.Info("request",
				"request_id", v.RequestID,
				"method", v.Method,
				"route", v.RoutePath,
				"status", v.Status,
				"duration", v.Latency.Round(time.Microsecond))
			return nil
		},
	})
}
