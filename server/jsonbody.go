package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// jsonError is a request body that is not one well-formed JSON value with
// unique member names. Two JSON parsers may read a repeated name
// differently, so credprops rejects it instead of picking one.
type jsonError struct {
	reason string
}

func (e *jsonError) Error() string { return e.reason }

var registerDecoder sync.Once

// useStrictJSON makes kin-openapi decode JSON request bodies with
// decodeStrictJSON. kin-openapi keeps body decoders in a process-wide
// registry, so this replaces its default for every validator in the process.
func useStrictJSON() {
	registerDecoder.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/json", decodeStrictJSON)
	})
}

func decodeStrictJSON(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	value, err := decodeValue(dec, 0)
	if err != nil {
		return nil, syntaxError(err, dec)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &jsonError{reason: fmt.Sprintf("unexpected data after the JSON value at offset %d", dec.InputOffset())}
	}
	return value, nil
}

func syntaxError(err error, dec *json.Decoder) error {
	var je *jsonError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &je):
		return err
	case errors.As(err, &se):
		return &jsonError{reason: fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &jsonError{reason: fmt.Sprintf("unexpected end of input at offset %d", dec.InputOffset())}
	}
	return &jsonError{reason: err.Error()}
}

// maxDepth bounds the nesting of arrays and objects, so that a body of
// brackets cannot exhaust the stack. The API's bodies nest one level deep.
const maxDepth = 32

// decodeValue reads one JSON value token by token, as encoding/json would
// with UseNumber, but rejects an object that repeats a member name.
func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, &jsonError{reason: fmt.Sprintf("arrays and objects nest deeper than %d levels at offset %d", maxDepth, dec.InputOffset())}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}

	switch tok {
	case json.Delim('{'):
		obj := map[string]any{}
		for dec.More() {
			keyTok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key := keyTok.(string)
			if _, dup := obj[key]; dup {
				return nil, &jsonError{reason: fmt.Sprintf("the name %q appears more than once in one object", key)}
			}
			if obj[key], err = decodeValue(dec, depth+1); err != nil {
				return nil, err
			}
		}
		_, err := dec.Token() // the closing brace
		return obj, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token() // the closing bracket
		return arr, err
	}
	return tok, nil
}
