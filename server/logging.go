package server

import (
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"credprops/access"
)

// maxRequestIDLen is the longest X-Request-Id accepted from a client.
const maxRequestIDLen = 128

// requestIDs sets the X-Request-Id response header to the client's
// X-Request-Id when validRequestID accepts it, or else to a new random ID.
// The check keeps a client's ID from forging or bloating log lines and
// error messages, which include it.
func requestIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			id = rand.Text()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// validRequestID reports whether id has 1 to maxRequestIDLen characters,
// each an ASCII letter or digit or one of - _ . : + / =, which covers UUIDs,
// ULIDs, hexadecimal and base64 IDs.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, r := range id {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case r == '-', r == '_', r == '.', r == ':', r == '+', r == '/', r == '=':
		default:
			return false
		}
	}
	return true
}

// accessLog logs one line per request: its ID, method, route template,
// status, duration and, once authenticated, the caller's user extId. It
// never logs the URL, headers or bodies, which can carry tokens and property
// values.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		HandleError: true,
		LogMethod:   true,
		LogStatus:   true,
		LogLatency:  true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			attrs := []any{
				"request_id", requestID(c),
				"method", v.Method,
				"route", routeTemplate(c),
				"status", v.Status,
				"duration", v.Latency.Round(time.Microsecond),
			}
			if caller, ok := c.Get(callerKey).(*access.Caller); ok {
				attrs = append(attrs, "caller", caller.UserExtID)
			}
			log.Info("request", attrs...)
			return nil
		},
	})
}
