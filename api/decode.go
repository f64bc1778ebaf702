package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/domain"
)

// MaxJSONBody bounds every JSON request body.
const MaxJSONBody = 1 << 20

// decodeJSON reads the request body strictly into dst: JSON media type, size
// limit, no unknown fields (exact-case names, so no mass assignment through
// Go's case-insensitive matching), no trailing data, and field-level errors
// with JSON pointers for wrong types. It writes the problem and returns false
// when the body is unacceptable.
func decodeJSON(c *gin.Context, dst any) bool {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			writeProblem(c, Problem{Type: typeUnsupported, Status: http.StatusUnsupportedMediaType,
				Detail: "send the body as application/json"})
			return false
		}
		if p, bad := charsetProblem(params); bad {
			writeProblem(c, p)
			return false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxJSONBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeProblem(c, Problem{Type: typeTooLarge, Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the request body exceeds %d bytes", MaxJSONBody)})
		return false
	}
	if err != nil {
		writeProblem(
			c,
			Problem{Type: typeMalformed, Status: http.StatusBadRequest, Detail: "the request body could not be read"},
		)
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		writeProblem(
			c,
			Problem{Type: typeMalformed, Status: http.StatusBadRequest, Detail: "the request body is empty; send a JSON object"},
		)
		return false
	}

	if p, bad := utf8Problem(body); bad {
		writeProblem(c, p)
		return false
	}

	// First pass: syntax and unknown fields, against the exact json names of dst.
	var generic any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		writeProblem(c, Problem{Type: typeMalformed, Status: http.StatusBadRequest, Detail: syntaxDetail(err, body)})
		return false
	}
	if dec.More() || trailingData(dec) {
		writeProblem(
			c,
			Problem{Type: typeMalformed, Status: http.StatusBadRequest, Detail: "unexpected data after the JSON document"},
		)
		return false
	}
	if _, ok := generic.(map[string]any); !ok {
		validationProblem(
			c,
			"Invalid request",
			domain.FieldErrors{{Pointer: "", Code: "type", Detail: "the body must be a JSON object"}},
		)
		return false
	}
	var unknown domain.FieldErrors
	walkUnknown(generic, reflect.TypeOf(dst).Elem(), "", &unknown)
	if len(unknown) > 0 {
		sort.Slice(unknown, func(i, j int) bool { return unknown[i].Pointer < unknown[j].Pointer })
		validationProblem(c, "Invalid request", unknown)
		return false
	}

	// Second pass: into the typed value; type mismatches become field errors.
	if err := json.Unmarshal(body, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			validationProblem(c, "Invalid request", domain.FieldErrors{{
				Pointer: "/" + strings.ReplaceAll(typeErr.Field, ".", "/"),
				Code:    "type",
				Detail:  "must be " + jsonKind(typeErr.Type),
			}})
			return false
		}
		writeProblem(
			c,
			Problem{
				Type:   typeMalformed,
				Status: http.StatusBadRequest,
				Detail: "the JSON body does not match the expected shape",
			},
		)
		return false
	}
	return true
}

func trailingData(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err != io.EOF
}

// syntaxDetail says where the JSON broke without echoing its content.
func syntaxDetail(err error, body []byte) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("the body is not valid JSON (error at byte %d)", syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the body is not valid JSON (it ends too early)"
	}
	return "the body is not valid JSON"
}

// walkUnknown reports every object member that t has no exact json name for.
func walkUnknown(v any, t reflect.Type, pointer string, out *domain.FieldErrors) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch val := v.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return // a type mismatch; the typed pass reports it
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(val))
		for k := range val {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := pointer + "/" + escapePointer(k)
			ft, ok := fields[k]
			if !ok {
				*out = append(*out, domain.FieldError{Pointer: p, Code: "unknown_field", Detail: "is not a known field"})
				continue
			}
			walkUnknown(val[k], ft, p, out)
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return
		}
		for i, item := range val {
			walkUnknown(item, t.Elem(), fmt.Sprintf("%s/%d", pointer, i), out)
		}
	}
}

func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		fields[name] = f.Type
	}
	return fields
}

// escapePointer escapes a member name per RFC 6901.
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
