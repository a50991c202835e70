package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"credprops/gen"
)

func TestGetProperties(t *testing.T) {
	s := newTestServer(t, "")

	res := s.get(cred1)

	if res.status != http.StatusOK {
		t.Fatalf("GET status = %d, want 200; body: %s", res.status, res.body)
	}
	assertProps(t, res.properties(t), map[string]string{"employee_id": "123", "tier": "gold"})
}

func TestGetProperties_NotFound(t *testing.T) {
	cases := []struct {
		desc    string
		path    string
		message string
	}{
		{"client", credPath("client-123", "ops", "cred-1"), "Client doesn't exist with extId 'client-123'"},
		{"user", credPath("acme", "user-123", "cred-1"), "A user with extId 'user-123' doesn't exist on client with name ACME"},
		{"user on another client", credPath("acme", "bob", "cred-b"), "A user with extId 'bob' doesn't exist on client with name ACME"},
		{"credential", credPath("acme", "ops", "cred-123"), "Generic credential with the extId cred-123 does not exist under the user ops"},
		{"credential of another user", credPath("beta", "bob", "cred-1"), "Generic credential with the extId cred-1 does not exist under the user bob"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, "")
			assertError(t, s.get(c.path), http.StatusNotFound, gen.ErrorsNoRecord, c.message)
		})
	}
}

func TestRouting(t *testing.T) {
	long := strings.Repeat("x", 256)
	cases := []struct {
		desc    string
		method  string
		path    string
		status  int
		code    gen.ErrorCode
		message string
	}{
		{"no route", http.MethodGet, "/nevisidm/api/core/v1/nope", http.StatusNotFound, gen.ErrorsInvalidUri,
			"No resource exists at path '/nevisidm/api/core/v1/nope'. Check the method and path against openapi.yaml."},
		{"method not allowed", http.MethodDelete, cred1, http.StatusMethodNotAllowed, gen.ErrorsUnsupportedOperation,
			"Method DELETE is not allowed on this resource. Allowed methods: GET, PATCH."},
		{"path parameter too long", http.MethodGet, credPath("acme", "ops", long), http.StatusBadRequest, gen.ErrorsInvalidParameter,
			"Invalid path parameter 'extId': the value must be 1 to 255 characters long."},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, "")
			before := s.snapshot()

			res := s.do(httptest.NewRequest(c.method, c.path, nil))

			assertError(t, res, c.status, c.code, c.message)
			assertUnchanged(t, s, before)
		})
	}
}

func TestMethodNotAllowed_AllowHeader(t *testing.T) {
	s := newTestServer(t, "")

	res := s.do(httptest.NewRequest(http.MethodPut, cred1, strings.NewReader("{}")))

	if got := res.header.Get("Allow"); !strings.Contains(got, "GET") || !strings.Contains(got, "PATCH") {
		t.Errorf("Allow = %q, want GET and PATCH", got)
	}
}

func TestUpdateProperties(t *testing.T) {
	cases := []struct {
		desc string
		body string
		want map[string]string
	}{
		{"set new and change", `{"note":"hello","tier":"silver"}`,
			map[string]string{"employee_id": "123", "tier": "silver", "note": "hello"}},
		{"null deletes", `{"tier":null}`, map[string]string{"employee_id": "123"}},
		{"empty string deletes", `{"tier":""}`, map[string]string{"employee_id": "123"}},
		{"deleting an absent value is a no-op", `{"note":null}`, map[string]string{"employee_id": "123", "tier": "gold"}},
		{"empty object is a no-op", `{}`, map[string]string{"employee_id": "123", "tier": "gold"}},
		{"re-setting own unique value", `{"employee_id":"123"}`, map[string]string{"employee_id": "123", "tier": "gold"}},
		{"client-specific definition wins", `{"nick":"abcdef"}`,
			map[string]string{"employee_id": "123", "tier": "gold", "nick": "abcdef"}},
		{"length counts characters, not bytes", fmt.Sprintf(`{"note":%q}`, strings.Repeat("é", 4000)),
			map[string]string{"employee_id": "123", "tier": "gold", "note": strings.Repeat("é", 4000)}},
		{"unicode escapes", `{"note":"caf\u00e9"}`, map[string]string{"employee_id": "123", "tier": "gold", "note": "café"}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, "")

			res := s.patch(cred1, c.body)

			if res.status != http.StatusOK {
				t.Fatalf("PATCH status = %d, want 200; body: %s", res.status, res.body)
			}
			assertProps(t, res.properties(t), c.want)
			assertProps(t, s.stored("acme", "ops", "cred-1"), c.want)
		})
	}
}

func TestUpdateProperties_DeleteFreesUniqueValue(t *testing.T) {
	s := newTestServer(t, "")

	if res := s.patch(cred1, `{"employee_id":null}`); res.status != http.StatusOK {
		t.Fatalf("delete status = %d, want 200; body: %s", res.status, res.body)
	}
	res := s.patch(credPath("acme", "ops", "cred-2"), `{"employee_id":"123"}`)

	if res.status != http.StatusOK {
		t.Fatalf("PATCH status = %d, want 200; body: %s", res.status, res.body)
	}
	assertProps(t, s.stored("acme", "ops", "cred-2"), map[string]string{"employee_id": "123"})
}

func TestUpdateProperties_Rejected(t *testing.T) {
	cases := []struct {
		desc    string
		path    string
		body    string
		status  int
		code    gen.ErrorCode
		message string
	}{
		{"unknown property", cred1, `{"additionalProp1":"x"}`, 422, gen.ErrorsInvalidData,
			"No property exists with the name 'additionalProp1' for the scope."},
		{"deleting an unknown property", cred1, `{"additionalProp1":null}`, 422, gen.ErrorsInvalidData,
			"No property exists with the name 'additionalProp1' for the scope."},
		{"value not unique", credPath("acme", "ops", "cred-2"), `{"employee_id":"123"}`, 422, gen.ErrorsPropertyUniquenessViolated,
			"Property Uniqueness (uScope is 'absolute') constraints violated by value '123' for property 'employee_id'."},
		{"value too long", cred1, `{"employee_id":"12345678901"}`, 422, gen.ErrorsPropertyStringmaxlen, "employee_id"},
		{"regex mismatch", cred1, `{"employee_id":"12a"}`, 422, gen.ErrorsPropertyStringregex, "employee_id"},
		{"regex must match the whole value", cred1, `{"employee_id":"a12"}`, 422, gen.ErrorsPropertyStringregex, "employee_id"},
		{"value not allowed", cred1, `{"tier":"platinum"}`, 422, gen.ErrorsInvalidData,
			"Value 'platinum' is not allowed for property 'tier'. Allowed values: gold, silver."},
		{"over the default maximum length", cred1, fmt.Sprintf(`{"note":%q}`, strings.Repeat("x", 4001)), 422, gen.ErrorsPropertyStringmaxlen, "note"},
		{"global definition on another client", credPath("beta", "bob", "cred-b"), `{"nick":"abcd"}`, 422, gen.ErrorsPropertyStringmaxlen, "nick"},
		{"archived credential", credPath("acme", "ops", "cred-old"), `{"note":"new"}`, 422, gen.ErrorsModifyArchivedCredential,
			"Generic credential with the extId cred-old is archived and cannot be modified."},
		{"client not found", credPath("client-123", "ops", "cred-1"), `{"note":"x"}`, 404, gen.ErrorsNoRecord,
			"Client doesn't exist with extId 'client-123'"},
		{"user not found", credPath("acme", "user-123", "cred-1"), `{"note":"x"}`, 404, gen.ErrorsNoRecord,
			"A user with extId 'user-123' doesn't exist on client with name ACME"},
		{"credential not found", credPath("acme", "ops", "cred-123"), `{"note":"x"}`, 404, gen.ErrorsNoRecord,
			"Generic credential with the extId cred-123 does not exist under the user ops"},
		{"not found before invalid", credPath("acme", "ops", "cred-123"), `{"nope":"x"}`, 404, gen.ErrorsNoRecord,
			"Generic credential with the extId cred-123 does not exist under the user ops"},
		{"malformed JSON", cred1, `{"note":}`, 400, gen.ErrorsJsonProcessingError,
			"The request body is not valid JSON: invalid character '}' looking for beginning of value at offset 8. Send a JSON object that maps property names to strings or null."},
		{"truncated JSON", cred1, `{"note":"x"`, 400, gen.ErrorsJsonProcessingError,
			"The request body is not valid JSON: unexpected end of input at offset 11. Send a JSON object that maps property names to strings or null."},
		{"duplicate name", cred1, `{"note":"a","note":"b"}`, 400, gen.ErrorsJsonProcessingError,
			`The request body is not valid JSON: the name "note" appears more than once in one object. Send a JSON object that maps property names to strings or null.`},
		{"trailing data", cred1, `{"note":"a"} {}`, 400, gen.ErrorsJsonProcessingError,
			"The request body is not valid JSON: unexpected data after the JSON value at offset 14. Send a JSON object that maps property names to strings or null."},
		{"number value", cred1, `{"note":5}`, 400, gen.ErrorsInvalidData,
			"Invalid request body at '/note': value must be a string or null."},
		{"object value", cred1, `{"note":{"a":"b"}}`, 400, gen.ErrorsInvalidData,
			"Invalid request body at '/note': value must be a string or null."},
		{"array body", cred1, `["note"]`, 400, gen.ErrorsInvalidData,
			"Invalid request body at '/': the body must be a JSON object."},
		{"null body", cred1, `null`, 400, gen.ErrorsInvalidData,
			"Invalid request body at '/': the body must be a JSON object."},
		{"too many keys", cred1, manyKeys(257), 400, gen.ErrorsInvalidData,
			"Invalid request body at '/': at most 256 properties are allowed in one request."},
		{"empty body", cred1, ``, 400, gen.ErrorsNullRequestBody,
			"The request body is missing. Send a JSON object that maps property names to strings or null."},
		{"deep nesting", cred1, `{"note":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, 400, gen.ErrorsJsonProcessingError, ""},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, "")
			before := s.snapshot()

			res := s.patch(c.path, c.body)

			assertError(t, res, c.status, c.code, c.message)
			assertUnchanged(t, s, before)
		})
	}
}

func manyKeys(n int) string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	return "{" + strings.Join(keys, ",") + "}"
}

func TestUpdateProperties_MaxLenPolicyViolation(t *testing.T) {
	s := newTestServer(t, "")

	res := s.patch(cred1, `{"employee_id":"123456789012"}`)

	dto := res.errorDTO(t)
	if dto.PolicyViolations == nil || len(*dto.PolicyViolations) != 1 {
		t.Fatalf("policyViolations = %v, want one entry; body: %s", dto.PolicyViolations, res.body)
	}
	pv := (*dto.PolicyViolations)[0]
	if pv.LimitValue == nil || *pv.LimitValue != 10 {
		t.Errorf("limitValue = %v, want 10", pv.LimitValue)
	}
	if pv.ActualValue == nil || *pv.ActualValue != "12" {
		t.Errorf("actualValue = %v, want 12", pv.ActualValue)
	}
}

func TestUpdateProperties_AllErrorsSortedByName(t *testing.T) {
	s := newTestServer(t, "")
	before := s.snapshot()

	res := s.patch(credPath("acme", "ops", "cred-2"),
		`{"tier":"platinum","note":"fine","employee_id":"123","zzz":"x","aaa":"y","nick":"toolongvalue"}`)

	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("PATCH status = %d, want 422; body: %s", res.status, res.body)
	}
	want := []struct {
		code    gen.ErrorCode
		message string
	}{
		{gen.ErrorsInvalidData, "No property exists with the name 'aaa' for the scope."},
		{gen.ErrorsPropertyUniquenessViolated, "Property Uniqueness (uScope is 'absolute') constraints violated by value '123' for property 'employee_id'."},
		{gen.ErrorsPropertyStringmaxlen, "nick"},
		{gen.ErrorsInvalidData, "Value 'platinum' is not allowed for property 'tier'. Allowed values: gold, silver."},
		{gen.ErrorsInvalidData, "No property exists with the name 'zzz' for the scope."},
	}
	dto := res.errorDTO(t)
	if len(dto.Errors) != len(want) {
		t.Fatalf("got %d errors, want %d: %s", len(dto.Errors), len(want), res.body)
	}
	for i, w := range want {
		if dto.Errors[i].Code != w.code || dto.Errors[i].Message != w.message {
			t.Errorf("errors[%d] = %s %q, want %s %q", i, dto.Errors[i].Code, dto.Errors[i].Message, w.code, w.message)
		}
	}
	assertUnchanged(t, s, before)
}

func TestUpdateProperties_ContentType(t *testing.T) {
	cases := []struct {
		desc        string
		contentType string
		message     string
	}{
		{"text/plain", "text/plain", "Content type 'text/plain' is not supported. Send the body as application/json."},
		{"missing", "", "Content type '' is not supported. Send the body as application/json."},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, "")
			before := s.snapshot()
			req := httptest.NewRequest(http.MethodPatch, cred1, strings.NewReader(`{"note":"x"}`))
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}

			res := s.do(req)

			assertError(t, res, http.StatusUnsupportedMediaType, gen.ErrorsUnsupportedMediaType, c.message)
			assertUnchanged(t, s, before)
		})
	}
}

func TestUpdateProperties_JSONWithCharset(t *testing.T) {
	s := newTestServer(t, "")
	req := httptest.NewRequest(http.MethodPatch, cred1, strings.NewReader(`{"note":"x"}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")

	res := s.do(req)

	if res.status != http.StatusOK {
		t.Fatalf("PATCH status = %d, want 200; body: %s", res.status, res.body)
	}
}

func TestUpdateProperties_BodyTooLarge(t *testing.T) {
	big := `{"note":"` + strings.Repeat("x", bodyLimit) + `"}`
	message := "The request body is larger than the limit of 1048576 bytes. Send fewer or shorter properties."
	cases := []struct {
		desc    string
		chunked bool
	}{
		{"with Content-Length", false},
		{"chunked", true},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := newTestServer(t, "")
			before := s.snapshot()
			req := httptest.NewRequest(http.MethodPatch, cred1, strings.NewReader(big))
			req.Header.Set("Content-Type", "application/json")
			if c.chunked {
				req.ContentLength = -1
				req.TransferEncoding = []string{"chunked"}
			}

			res := s.do(req)

			assertError(t, res, http.StatusRequestEntityTooLarge, gen.ErrorsInvalidData, message)
			assertUnchanged(t, s, before)
		})
	}
}

func TestInternalError_GenericMessage(t *testing.T) {
	s := newTestServer(t, "")
	s.store.Close()

	res := s.get(cred1)

	assertError(t, res, http.StatusInternalServerError, gen.ErrorsFatalError, "")
	msg := res.errorDTO(t).Errors[0].Message
	id := res.header.Get("X-Request-Id")
	if id == "" || msg != "An internal error occurred. Report request ID "+id+" to the operator." {
		t.Errorf("message = %q, want the generic message with request ID %q", msg, id)
	}
}

// TestUpdateProperties_UniqueRace claims one ABSOLUTE value on 20
// credentials at once: exactly one request may win.
func TestUpdateProperties_UniqueRace(t *testing.T) {
	const n = 20
	var data strings.Builder
	data.WriteString(fixture)
	for i := range n {
		fmt.Fprintf(&data, "  - {extId: race-%d, user: ops, identification: race-%d}\n", i, i)
	}
	s := newTestServer(t, data.String())

	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPatch, credPath("acme", "ops", fmt.Sprintf("race-%d", i)),
				strings.NewReader(`{"employee_id":"777"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token(t, "ops"))
			rec := httptest.NewRecorder()
			s.echo.ServeHTTP(rec, req)
			statuses[i] = rec.Code
		})
	}
	wg.Wait()

	won := 0
	for i, status := range statuses {
		switch status {
		case http.StatusOK:
			won++
		case http.StatusUnprocessableEntity:
		default:
			t.Errorf("request %d: status = %d, want 200 or 422", i, status)
		}
	}
	if won != 1 {
		t.Errorf("%d requests won the value, want 1", won)
	}
	holders := 0
	for i := range n {
		if s.stored("acme", "ops", fmt.Sprintf("race-%d", i))["employee_id"] == "777" {
			holders++
		}
	}
	if holders != 1 {
		t.Errorf("%d credentials hold the value, want 1", holders)
	}
}
