package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
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

// authenticate verifies the bearer token of each request to an operation
// that requires one, before the body limit and the validator read the body.
// So a bad token gets 401 before any request-shape error, and an
// unauthenticated client cannot make the server buffer a body. Responses of
// those operations carry credential data, so they are marked uncacheable.
// Requests that match no operation pass on to the validator's 404 and 405.
func authenticate(secured map[string]bool, st *store.Store, verifier *auth.Verifier) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !secured[c.Request().Method+" "+c.Path()] {
				return next(c)
			}
			c.Response().Header().Set(echo.HeaderCacheControl, "no-store")

			caller, err := identify(c.Request(), st, verifier)
			if err != nil {
				return err
			}
			c.Set(callerKey, caller)
			return next(c)
		}
	}
}

// securedRoutes returns "METHOD /echo/route/:template" for each operation of
// spec that requires a security scheme, in the form of Echo's route
// templates, so that authenticate needs no second router.
func securedRoutes(spec *openapi3.T) map[string]bool {
	secured := map[string]bool{}
	for path, item := range spec.Paths.Map() {
		echoPath := pathParam.ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			security := op.Security
			if security == nil {
				security = &spec.Security
			}
			if len(*security) > 0 {
				secured[method+" "+echoPath] = true
			}
		}
	}
	return secured
}

// pathParam matches an OpenAPI path parameter such as {clientExtId}.
var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// identify returns the caller that the request's bearer token names, or an
// *authError saying what is wrong with the token.
func identify(req *http.Request, st *store.Store, verifier *auth.Verifier) (*access.Caller, error) {
	headers := req.Header.Values(echo.HeaderAuthorization)
	if len(headers) > 1 {
		return nil, &authError{"The request has more than one Authorization header. Send exactly one."}
	}
	header := req.Header.Get(echo.HeaderAuthorization)
	scheme, token, found := strings.Cut(header, " ")
	switch {
	case header == "":
		return nil, &authError{"The Authorization header is missing. Send Authorization: Bearer <JWT>."}
	case !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "":
		return nil, &authError{"The Authorization header is not a bearer token. Send Authorization: Bearer <JWT>."}
	}

	sub, err := verifier.Verify(strings.TrimSpace(token))
	var tokenErr *auth.Error
	if errors.As(err, &tokenErr) {
		return nil, &authError{tokenErr.Message}
	} else if err != nil {
		return nil, fmt.Errorf("verify token: %w", err)
	}

	ctx, cancel := detach(req.Context())
	defer cancel()
	caller, err := st.Caller(ctx, sub)
	if errors.Is(err, store.ErrUnknownUser) {
		return nil, &authError{"The bearer token's sub claim names no existing user."}
	} else if err != nil {
		return nil, err
	}
	return caller, nil
}

// requireCaller is kin-openapi's AuthenticationFunc for the bearerAuth
// scheme. The authenticate middleware has already verified the token of
// every request that reaches it, so it only checks that a caller was found.
func requireCaller(ctx context.Context, _ *openapi3filter.AuthenticationInput) error {
	c := echomiddleware.GetEchoContext(ctx)
	if c == nil {
		return errors.New("require caller: no Echo context in the validator's context")
	}
	if _, ok := c.Get(callerKey).(*access.Caller); !ok {
		return errors.New("require caller: the authenticate middleware found no caller")
	}
	return nil
}

// storeTimeout bounds the database work of one request.
const storeTimeout = 10 * time.Second

// detach returns a context for the database work of a request that is not
// canceled when the client goes away. The work is short and a PATCH is
// atomic, and a client that only half-closes its connection still reads
// the response.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
}

func unauthorized(c echo.Context, message string) *apiError {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
	if c.Request().Header.Get(echo.HeaderAuthorization) == "" {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, "Bearer")
	}
	return newAPIError(http.StatusUnauthorized, gen.ErrorsInvalidJWTToken, message)
}

type callerContextKey struct{}

// withCaller is a strict middleware that gives the handlers a detached
// context (see detach) carrying the caller found by authenticate. It runs
// after validation, when replacing the request no longer loses its body.
func withCaller(f gen.StrictHandlerFunc, _ string) gen.StrictHandlerFunc {
	return func(c echo.Context, request any) (any, error) {
		ctx, cancel := detach(c.Request().Context())
		defer cancel()
		if caller, ok := c.Get(callerKey).(*access.Caller); ok {
			ctx = context.WithValue(ctx, callerContextKey{}, caller)
		}
		c.SetRequest(c.Request().WithContext(ctx))
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
