// Package server serves the credprops API and its operations endpoints
// with Echo. It contains the middleware for request IDs, metrics, access
// logs, recovery, the body limit and kin-openapi request validation, the
// handlers of the generated strict server interface, and the one mapping
// from errors to ErrorDTO bodies.
package server

import (
	"errors"
	"fmt"
	"log/slog"

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

	// OpenAPI is openapi.yaml as the binary was built with it, served
	// unchanged at /openapi.yaml and converted to JSON at /openapi.json.
	OpenAPI []byte
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

// New returns the Echo instance that serves the API and the operations
// endpoints. It returns an error when the embedded OpenAPI document is
// invalid, cfg.OpenAPI is empty or not YAML, or the metrics cannot be
// registered.
func New(cfg Config) (*echo.Echo, error) {
	spec, err := Spec()
	if err != nil {
		return nil, err
	}
	// The validator must match any host the server is reached on.
	spec.Servers = nil
	useStrictJSON()

	if len(cfg.OpenAPI) == 0 {
		return nil, errors.New("server.Config.OpenAPI is empty: pass the openapi.yaml the binary is built with")
	}
	openAPIJSON, err := yamlToJSON(cfg.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("convert openapi.yaml to JSON: %w", err)
	}

	dbs, err := cfg.Store.DBs()
	if err != nil {
		return nil, err
	}
	metrics, err := newMetrics(dbs)
	if err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(cfg.Logger)

	// Recovery runs inside the metrics and the access log, so that a
	// request whose handler panics is counted and logged as a 500.
	e.Use(requestIDs)
	e.Use(metrics.middleware)
	e.Use(accessLog(cfg.Logger))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			cfg.Logger.Error("panic in handler", "request_id", requestID(c), "error", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(authenticate(securedRoutes(spec), cfg.Store, cfg.Verifier))
	e.Use(middleware.BodyLimit(fmt.Sprint(bodyLimit)))
	e.Use(echomiddleware.OapiRequestValidatorWithOptions(spec, &echomiddleware.Options{
		Options: openapi3filter.Options{
			AuthenticationFunc: requireCaller,
			KeepValidatedValue: true,
			// Property values must not end up in error messages.
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
		},
		SilenceServersWarning: true,
		Skipper:               isPlainRoute,
	}))

	h := &handlers{
		store:       cfg.Store,
		ping:        cfg.Store.Ping,
		log:         cfg.Logger,
		openAPIYAML: cfg.OpenAPI,
		openAPIJSON: openAPIJSON,
	}
	gen.RegisterHandlers(e, gen.NewStrictHandler(h, []gen.StrictMiddlewareFunc{withCaller}))
	registerPlainRoutes(e, metrics, cfg.Logger)
	return e, nil
}

// requestID returns the ID that the requestIDs middleware gave the request.
func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// routeTemplate returns the template of the route that the request matched,
// such as /healthz, or "none" when it matched no route. Logs and metrics use
// it instead of the path, whose values clients choose.
func routeTemplate(c echo.Context) string {
	if c.Path() == "" {
		return "none"
	}
	return c.Path()
}
