package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"credprops/gen"
	"credprops/store"
)

// This file builds every error body that credprops sends. Handlers return
// typed responses built by the *Body functions below for domain errors.
// errorHandler maps everything else that reaches Echo: routing and
// validation errors, the body limit and real failures.

// apiError is an error response that middleware can return as an error.
type apiError struct {
	status int
	body   gen.ErrorDTO
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s", e.status, e.body.Errors[0].Code)
}

func newAPIError(status int, code gen.ErrorCode, message string) *apiError {
	return &apiError{status: status, body: errorBody(code, message)}
}

func errorBody(code gen.ErrorCode, message string) gen.ErrorDTO {
	return gen.ErrorDTO{Errors: []gen.ErrorMessageDTO{{Code: code, Message: message}}}
}

// notFoundBody returns the 404 body for the missing client, user or
// credential, in the wording of the nevisIDM reference.
func notFoundBody(err *store.NotFoundError) gen.ErrorDTO {
	var msg string
	switch err.Entity {
	case store.EntityClient:
		msg = fmt.Sprintf("Client doesn't exist with extId '%s'", err.Ref.ClientExtID)
	case store.EntityUser:
		msg = fmt.Sprintf("A user with extId '%s' doesn't exist on client with name %s", err.Ref.UserExtID, err.ClientName)
	default:
		msg = fmt.Sprintf("Generic credential with the extId %s does not exist under the user %s", err.Ref.ExtID, err.Ref.UserExtID)
	}
	return errorBody(gen.ErrorsNoRecord, msg)
}

func archivedBody(extID string) gen.ErrorDTO {
	return errorBody(gen.ErrorsModifyArchivedCredential,
		fmt.Sprintf("Generic credential with the extId %s is archived and cannot be modified.", extID))
}

// accessBody returns the 403 body with one entry per denied property.
func accessBody(err *store.AccessError) gen.ErrorDTO {
	var body gen.ErrorDTO
	for _, d := range err.Denials {
		verb, setting := "creating", "accessCreate"
		if d.Operation == store.OperationModify {
			verb, setting = "modifying", "accessModify"
		}
		body.Errors = append(body.Errors, gen.ErrorMessageDTO{
			Code: gen.ErrorsAttrAccessForbidden,
			Message: fmt.Sprintf("Permission denied: %s the value of property '%s' is not allowed (%s is %s).",
				verb, d.Property, setting, d.Mode),
		})
	}
	return body
}

// validationBody returns the 422 body with one entry per violation, in the
// store's order, which is sorted by property name. A maximum length
// violation also gets a policyViolations entry, and the first one the legacy
// policyViolation object.
func validationBody(err *store.ValidationError) gen.ErrorDTO {
	var body gen.ErrorDTO
	var policyViolations []gen.PolicyViolationDTO
	for _, v := range err.Violations {
		var msg gen.ErrorMessageDTO
		switch v.Rule {
		case store.RuleUnknownProperty:
			msg = gen.ErrorMessageDTO{Code: gen.ErrorsInvalidData,
				Message: fmt.Sprintf("No property exists with the name '%s' for the scope.", v.Property)}
		case store.RuleAllowedValues:
			msg = gen.ErrorMessageDTO{Code: gen.ErrorsInvalidData,
				Message: fmt.Sprintf("Value '%s' is not allowed for property '%s'. Allowed values: %s.",
					v.Value, v.Property, strings.Join(v.AllowedValues, ", "))}
		case store.RuleMaxLen:
			msg = gen.ErrorMessageDTO{Code: gen.ErrorsPropertyStringmaxlen, Message: v.Property}
			policyViolations = append(policyViolations, maxLenViolation(v))
			if body.PolicyViolation == nil {
				body.PolicyViolation = legacyMaxLenViolation(v)
			}
		case store.RuleRegex:
			msg = gen.ErrorMessageDTO{Code: gen.ErrorsPropertyStringregex, Message: v.Property}
		case store.RuleRegexInvalid:
			msg = gen.ErrorMessageDTO{Code: gen.ErrorsPropertyRegexinv,
				Message: fmt.Sprintf("The regular expression of property '%s' is invalid, so no value can be set. Ask an administrator to correct the property definition.", v.Property)}
		case store.RuleUnique:
			msg = gen.ErrorMessageDTO{Code: gen.ErrorsPropertyUniquenessViolated,
				Message: fmt.Sprintf("Property Uniqueness (uScope is 'absolute') constraints violated by value '%s' for property '%s'.", v.Value, v.Property)}
		}
		body.Errors = append(body.Errors, msg)
	}
	if len(policyViolations) > 0 {
		body.PolicyViolations = &policyViolations
	}
	return body
}

func maxLenViolation(v store.Violation) gen.PolicyViolationDTO {
	displayName, config := v.Property, "stringMaxLen"
	limit, actual := v.MaxLen, strconv.Itoa(v.Length)
	return gen.PolicyViolationDTO{
		DisplayName:  &displayName,
		ConfigString: &config,
		LimitValue:   &limit,
		ActualValue:  &actual,
	}
}

func legacyMaxLenViolation(v store.Violation) *gen.PolicyElementViolation {
	displayName, config, tag := v.Property, "stringMaxLen", "errors.property.stringmaxlen"
	limit, actual := v.MaxLen, strconv.Itoa(v.Length)
	msg := fmt.Sprintf("The value of property '%s' has %d characters; at most %d are allowed.", v.Property, v.Length, v.MaxLen)
	return &gen.PolicyElementViolation{
		Element: &gen.PolicyElement{
			DisplayName:  &displayName,
			ConfigString: &config,
			MessageTag:   &tag,
			LimitValue:   &limit,
		},
		Actualvalue:      &actual,
		Message:          &msg,
		LocalizedMessage: &msg,
	}
}

// errorHandler is Echo's HTTPErrorHandler: it writes the ErrorDTO for err
// and logs server errors with their cause.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}

		apiErr := toAPIError(err, c)
		if apiErr.status >= http.StatusInternalServerError {
			log.Error("request failed",
				"request_id", requestID(c),
				"method", c.Request().Method,
				"route", c.Path(),
				"error", err)
		}

		if c.Request().Method == http.MethodHead {
			err = c.NoContent(apiErr.status)
		} else {
			err = c.JSON(apiErr.status, apiErr.body)
		}
		if err != nil {
			log.Error("write error response", "request_id", requestID(c), "error", err)
		}
	}
}

// toAPIError maps an error that reached Echo to its response.
func toAPIError(err error, c echo.Context) *apiError {
	var apiErr *apiError
	if errors.As(err, &apiErr) {
		return apiErr
	}

	// The body limit can surface from deep inside the validator's error,
	// for a chunked body that is read only while being validated.
	if isTooLarge(err) {
		return newAPIError(http.StatusRequestEntityTooLarge, gen.ErrorsInvalidData,
			fmt.Sprintf("The request body is larger than the limit of %d bytes. Send fewer or shorter properties.", bodyLimit))
	}

	var authErr *authError
	if errors.As(err, &authErr) {
		return unauthorized(c, authErr.message)
	}

	var reqErr *openapi3filter.RequestError
	if errors.As(err, &reqErr) {
		return requestError(reqErr)
	}

	var httpErr *echo.HTTPError
	if errors.As(err, &httpErr) {
		switch httpErr.Code {
		case http.StatusNotFound:
			return newAPIError(http.StatusNotFound, gen.ErrorsInvalidUri,
				fmt.Sprintf("No resource exists at path '%s'. Check the method and path against openapi.yaml.", c.Request().URL.Path))
		case http.StatusMethodNotAllowed:
			return methodNotAllowed(c)
		case http.StatusUnsupportedMediaType:
			return unsupportedMediaType(c.Request().Header.Get(echo.HeaderContentType))
		case http.StatusBadRequest:
			return newAPIError(http.StatusBadRequest, gen.ErrorsInvalidData,
				"The request is invalid. Check it against openapi.yaml.")
		}
	}

	return newAPIError(http.StatusInternalServerError, gen.ErrorsFatalError,
		fmt.Sprintf("An internal error occurred. Report request ID %s to the operator.", requestID(c)))
}

func isTooLarge(err error) bool {
	for _, e := range unwrapAll(err) {
		var httpErr *echo.HTTPError
		if errors.As(e, &httpErr) && httpErr.Code == http.StatusRequestEntityTooLarge {
			return true
		}
		var maxErr *http.MaxBytesError
		if errors.As(e, &maxErr) {
			return true
		}
	}
	return false
}

// unwrapAll lists err and every error it wraps, through joined errors too.
func unwrapAll(err error) []error {
	var all []error
	queue := []error{err}
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		if e == nil {
			continue
		}
		all = append(all, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			queue = append(queue, u.Unwrap())
		case interface{ Unwrap() []error }:
			queue = append(queue, u.Unwrap()...)
		}
	}
	return all
}

func methodNotAllowed(c echo.Context) *apiError {
	// Echo lists OPTIONS too, which it handles itself, but the
	// validator rejects every method that openapi.yaml does not define.
	var methods []string
	allow, _ := c.Get(echo.ContextKeyHeaderAllow).(string)
	for m := range strings.SplitSeq(allow, ",") {
		if m = strings.TrimSpace(m); m != "" && m != http.MethodOptions {
			methods = append(methods, m)
		}
	}
	allowed := strings.Join(methods, ", ")
	c.Response().Header().Set(echo.HeaderAllow, allowed)
	return newAPIError(http.StatusMethodNotAllowed, gen.ErrorsUnsupportedOperation,
		fmt.Sprintf("Method %s is not allowed on this resource. Allowed methods: %s.", c.Request().Method, allowed))
}

func unsupportedMediaType(contentType string) *apiError {
	return newAPIError(http.StatusUnsupportedMediaType, gen.ErrorsUnsupportedMediaType,
		fmt.Sprintf("Content type '%s' is not supported. Send the body as application/json.", contentType))
}

// requestError maps a kin-openapi validation failure of a parameter or the
// body.
func requestError(err *openapi3filter.RequestError) *apiError {
	if err.Parameter != nil {
		return newAPIError(http.StatusBadRequest, gen.ErrorsInvalidParameter,
			fmt.Sprintf("Invalid %s parameter '%s': %s.", err.Parameter.In, err.Parameter.Name, reason(err.Err)))
	}

	if err.Input != nil && strings.HasPrefix(err.Reason, "header Content-Type has unexpected value") {
		return unsupportedMediaType(err.Input.Request.Header.Get(echo.HeaderContentType))
	}
	if errors.Is(err.Err, openapi3filter.ErrInvalidRequired) {
		return newAPIError(http.StatusBadRequest, gen.ErrorsNullRequestBody,
			"The request body is missing. Send a JSON object that maps property names to strings or null.")
	}

	var encErr *encodingError
	if errors.As(err, &encErr) {
		return newAPIError(http.StatusUnsupportedMediaType, gen.ErrorsUnsupportedMediaType, encErr.message)
	}

	var jsonErr *jsonError
	if errors.As(err, &jsonErr) {
		return newAPIError(http.StatusBadRequest, gen.ErrorsJsonProcessingError,
			fmt.Sprintf("The request body is not valid JSON: %s. Send a JSON object that maps property names to strings or null.", jsonErr.reason))
	}

	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		return newAPIError(http.StatusBadRequest, gen.ErrorsInvalidData,
			fmt.Sprintf("Invalid request body at '/%s': %s.", strings.Join(schemaErr.JSONPointer(), "/"), schemaReason(schemaErr)))
	}
	return newAPIError(http.StatusBadRequest, gen.ErrorsInvalidData,
		fmt.Sprintf("Invalid request body: %s.", err.Reason))
}

func reason(err error) string {
	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		return schemaReason(schemaErr)
	}
	if err == nil {
		return "invalid value"
	}
	return err.Error()
}

// schemaReason rewords kin-openapi's reasons for the schemas of this API.
// kin-openapi leaves values out of its reasons, so none is echoed.
func schemaReason(err *openapi3.SchemaError) string {
	switch err.SchemaField {
	case "type", "nullable":
		if len(err.JSONPointer()) == 0 {
			return "the body must be a JSON object"
		}
		if err.Schema != nil && err.Schema.Nullable {
			return "value must be a string or null"
		}
	case "maxProperties":
		if err.Schema != nil && err.Schema.MaxProps != nil {
			return fmt.Sprintf("at most %d properties are allowed in one request", *err.Schema.MaxProps)
		}
	case "minLength", "maxLength":
		if err.Schema != nil && err.Schema.MaxLength != nil {
			return fmt.Sprintf("the value must be %d to %d characters long", err.Schema.MinLength, *err.Schema.MaxLength)
		}
	}
	return err.Reason
}
