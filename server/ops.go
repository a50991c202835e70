package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/swaggest/swgui"
	"github.com/swaggest/swgui/v5emb"

	"credprops/gen"
)

// This file serves the operations endpoints: the health and readiness
// probes and the OpenAPI document through the generated strict interface,
// and the API reference page and the metrics as plain Echo routes.

// readyTimeout bounds the readiness check's database query.
const readyTimeout = time.Second

func (h *handlers) GetHealth(context.Context, gen.GetHealthRequestObject) (gen.GetHealthResponseObject, error) {
	return gen.GetHealth200JSONResponse{Status: gen.HealthStatusOk}, nil
}

func (h *handlers) GetReadiness(ctx context.Context, _ gen.GetReadinessRequestObject) (gen.GetReadinessResponseObject, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()

	err := h.ping(ctx)
	h.logReadiness(err)

	database := gen.HealthDatabaseOk
	switch {
	case err == nil:
		return gen.GetReadiness200JSONResponse{Status: gen.HealthStatusOk, Database: &database}, nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		database = gen.HealthDatabaseTimeout
	default:
		database = gen.HealthDatabaseFailed
	}
	return gen.GetReadiness503JSONResponse{Status: gen.HealthStatusUnavailable, Database: &database}, nil
}

// logReadiness logs when the readiness check starts failing, with the
// cause, and when it passes again, rather than once per probe.
func (h *handlers) logReadiness(err error) {
	if err != nil {
		if !h.unready.Swap(true) {
			h.log.Warn("readiness check failed: the database query failed or timed out", "timeout", readyTimeout, "error", err)
		}
		return
	}
	if h.unready.Swap(false) {
		h.log.Info("readiness check passed again")
	}
}

func (h *handlers) GetOpenAPIYAML(context.Context, gen.GetOpenAPIYAMLRequestObject) (gen.GetOpenAPIYAMLResponseObject, error) {
	return gen.GetOpenAPIYAML200ApplicationyamlResponse{
		Body:          bytes.NewReader(h.openAPIYAML),
		ContentLength: int64(len(h.openAPIYAML)),
	}, nil
}

func (h *handlers) GetOpenAPIJSON(context.Context, gen.GetOpenAPIJSONRequestObject) (gen.GetOpenAPIJSONResponseObject, error) {
	return openAPIJSONResponse(h.openAPIJSON), nil
}

// openAPIJSONResponse is the 200 response of getOpenAPIJSON: the JSON that
// New converted once. The generated response type would decode the document
// into a map and encode it again on every request.
type openAPIJSONResponse []byte

func (r openAPIJSONResponse) VisitGetOpenAPIJSONResponse(w http.ResponseWriter) error {
	w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.Header().Set(echo.HeaderContentLength, strconv.Itoa(len(r)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r)
	return err
}

// Routes that openapi.yaml documents but gen/config.yaml leaves out of the
// generated interface, because their handlers need the raw request.
const (
	docsRoute    = "/docs"
	metricsRoute = "/metrics"
)

// isPlainRoute reports whether the request matched a route outside the
// generated interface. The request validator skips these routes, because
// they take no parameters and the spec embedded in gen does not list them.
func isPlainRoute(c echo.Context) bool {
	switch c.Path() {
	case docsRoute, docsRoute + "/*", metricsRoute:
		return true
	}
	return false
}

// registerPlainRoutes serves the API reference page with its assets, and the
// metrics.
func registerPlainRoutes(e *echo.Echo, m *metrics, log *slog.Logger) {
	// swgui serves Swagger UI 5 from files embedded in its module. The page
	// loads its scripts and styles from docsRoute and the document from
	// /openapi.yaml, and nothing from elsewhere.
	docs := echo.WrapHandler(v5emb.NewHandlerWithConfig(swgui.Config{
		Title:       "credprops API",
		SwaggerJSON: "/openapi.yaml",
		BasePath:    docsRoute + "/",
	}))
	e.GET(docsRoute, docs)
	e.GET(docsRoute+"/*", docs)

	e.GET(metricsRoute, echo.WrapHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
	})))
}
