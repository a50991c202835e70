package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	echomiddleware "github.com/oapi-codegen/echo-middleware"

	"credprops/access"
	"credprops/auth"
	"credprops/gen"
	"credprops/store"
)

// callerKey is the Echo context key of the authenticated *access.Caller.
const callerKey = "credprops.caller"

// authError is a request whose bearer token is not accepted.
type authError struct {
	message string
}

func (e *authError) Error() string { return e.message }

// authenticate is kin-openapi's AuthenticationFunc for the bearerAuth
// scheme. kin-openapi runs it before it validates parameters and the body,
// so a bad token is rejected with 401 before any request shape error.
func authenticate(st *store.Store, verifier *auth.Verifier) openapi3filter.AuthenticationFunc {
	return func(ctx context.Context, input *openapi3filter.AuthenticationInput) error {
		c := echomiddleware.GetEchoContext(ctx)
		if c == nil {
			return errors.New("authenticate: no Echo context in the validator's context")
		}

		header := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, token, found := strings.Cut(header, " ")
		switch {
		case header == "":
			return &authError{"The Authorization header is missing. Send Authorization: Bearer <JWT>."}
		case !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "":
			return &authError{"The Authorization header is not a bearer token. Send Authorization: Bearer <JWT>."}
		}

		sub, err := verifier.Verify(strings.TrimSpace(token))
		var tokenErr *auth.Error
		if errors.As(err, &tokenErr) {
			return &authError{tokenErr.Message}
		} else if err != nil {
			return fmt.Errorf("verify token: %w", err)
		}

		caller, err := st.Caller(c.Request().Context(), sub)
		if errors.Is(err, store.ErrUnknownUser) {
			return &authError{"The bearer token's sub claim names no existing user."}
		} else if err != nil {
			return err
		}
		c.Set(callerKey, caller)
		return nil
	}
}

func unauthorized(c echo.Context, message string) *apiError {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
	if c.Request().Header.Get(echo.HeaderAuthorization) == "" {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, "Bearer")
	}
	return newAPIError(http.StatusUnauthorized, gen.ErrorsInvalidJWTToken, message)
}

type callerContextKey struct{}

// withCaller is a strict middleware that passes the caller found by
// authenticate to the handlers in the request's context. It runs after
// validation, when replacing the request no longer loses its body.
func withCaller(f gen.StrictHandlerFunc, _ string) gen.StrictHandlerFunc {
	return func(c echo.Context, request any) (any, error) {
		if caller, ok := c.Get(callerKey).(*access.Caller); ok {
			ctx := context.WithValue(c.Request().Context(), callerContextKey{}, caller)
			c.SetRequest(c.Request().WithContext(ctx))
		}
		return f(c, request)
	}
}

// authorize checks the caller in ctx against the rights an operation needs
// on the target, and returns the store's access mode for it.
func authorize(ctx context.Context, required []access.Right, ref store.CredentialRef) (store.Access, *gen.ErrorDTO) {
	caller, ok := ctx.Value(callerContextKey{}).(*access.Caller)
	if !ok {
		// Unreachable while every operation requires bearerAuth.
		body := deniedBody(&access.Denial{Right: required[0]})
		return store.EnforceAccess, &body
	}

	grant, err := caller.Authorize(required, access.Target{ClientExtID: ref.ClientExtID, UserExtID: ref.UserExtID})
	var denial *access.Denial
	if errors.As(err, &denial) {
		body := deniedBody(denial)
		return store.EnforceAccess, &body
	}
	if grant.Override {
		return store.OverrideAccess, nil
	}
	return store.EnforceAccess, nil
}

func deniedBody(d *access.Denial) gen.ErrorDTO {
	if d.Dataroom {
		return errorBody(gen.ErrorsCombinedDataroomDenied, fmt.Sprintf("Permission denied: %s", d.Right))
	}
	return errorBody(gen.ErrorsInsufficientRightsFunction,
		fmt.Sprintf("Permission denied: Caller does not have the required right '%s' to perform this action", d.Right))
}
