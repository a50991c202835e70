package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

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

// encodingError is a JSON body in a character set other than UTF-8, which
// RFC 8259 requires, or with a content coding such as gzip. Both get 415.
type encodingError struct {
	message string
}

func (e *encodingError) Error() string { return e.message }

func decodeStrictJSON(body io.Reader, header http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	if _, params, err := mime.ParseMediaType(header.Get("Content-Type")); err == nil {
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return nil, &encodingError{fmt.Sprintf("Charset '%s' is not supported. Send the JSON body in UTF-8.", cs)}
		}
	}
	if ce := header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, &encodingError{fmt.Sprintf("Content-Encoding '%s' is not supported. Send the body uncompressed.", ce)}
	}

	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, &jsonError{reason: "the body is not valid UTF-8"}
	}
	if offset := loneSurrogate(data); offset >= 0 {
		return nil, &jsonError{reason: fmt.Sprintf("the escape at offset %d is half of a UTF-16 surrogate pair, which is not a character", offset)}
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

// loneSurrogate returns the offset of the first \u escape in a JSON string
// of data that is a UTF-16 surrogate without its other half, or -1.
// encoding/json would silently turn it into U+FFFD.
func loneSurrogate(data []byte) int {
	inString := false
	for i := 0; i < len(data); i++ {
		switch {
		case data[i] == '"':
			inString = !inString
		case inString && data[i] == '\\' && i+1 < len(data):
			if data[i+1] != 'u' {
				i++ // skip the escaped character, which may be a quote
				continue
			}
			r := hexRune(data, i+2)
			switch {
			case utf16.IsSurrogate(r) && r < 0xDC00 && hexRune(data, i+8) >= 0xDC00 &&
				hexRune(data, i+8) <= 0xDFFF && i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u':
				i += 11 // a whole pair
			case utf16.IsSurrogate(r):
				return i
			default:
				i += 5
			}
		}
	}
	return -1
}

// hexRune decodes the four hex digits at data[at:], or returns -1.
func hexRune(data []byte, at int) rune {
	if at+4 > len(data) {
		return -1
	}
	n, err := strconv.ParseUint(string(data[at:at+4]), 16, 32)
	if err != nil {
		return -1
	}
	return rune(n)
}
