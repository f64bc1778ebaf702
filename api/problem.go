package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
)

// ProblemContentType is RFC 9457's media type.
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem details document. Errors lists the invalid
// fields, each with a JSON pointer into the request.
type Problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Errors   []ProblemField `json:"errors,omitempty"`
	// Extensions used by some problems.
	RequestID string `json:"request_id,omitempty"`
}

// ProblemField is one invalid field or parameter.
type ProblemField struct {
	Pointer   string `json:"pointer"`
	Detail    string `json:"detail"`
	Code      string `json:"code,omitempty"`
	Parameter string `json:"parameter,omitempty"`
}

// Problem types: URNs, so they are stable identifiers that need no web page.
const (
	typeValidation   = "urn:visad:problem:validation-error"
	typeMalformed    = "urn:visad:problem:malformed-request"
	typeTooLarge     = "urn:visad:problem:request-too-large"
	typeUnsupported  = "urn:visad:problem:unsupported-media-type"
	typeUnauthorized = "urn:visad:problem:unauthorized"
	typeForbidden    = "urn:visad:problem:forbidden"
	typeNotFound     = "urn:visad:problem:not-found"
	typeNotAllowed   = "urn:visad:problem:method-not-allowed"
	typeConflict     = "urn:visad:problem:invalid-transition"
	typeIdempotency  = "urn:visad:problem:idempotency-key-reused"
	typeUnavailable  = "urn:visad:problem:service-unavailable"
	typeInternal     = "urn:visad:problem:internal-error"
	typeBatchFormat  = "urn:visad:problem:unreadable-upload"
	typeRateLimited  = "urn:visad:problem:rate-limited"
	typeQuota        = "urn:visad:problem:chamber-quota-exceeded"
)

func writeProblem(c *gin.Context, p Problem) {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	// The instance names this occurrence by request id: it echoes nothing the client sent.
	p.RequestID = c.GetString(ctxRequestID)
	if p.Instance == "" {
		p.Instance = "urn:visad:request:" + p.RequestID
	}
	if p.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="visad"`)
	}
	c.Header("Content-Type", ProblemContentType)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, p)
	// AbortWithStatusJSON sets application/json; restore the problem type.
	c.Writer.Header().Set("Content-Type", ProblemContentType)
}

func validationProblem(c *gin.Context, title string, errs domain.FieldErrors) {
	fields := problemFields(errs)
	writeProblem(c, Problem{
		Type: typeValidation, Title: title, Status: http.StatusUnprocessableEntity,
		Detail: plural(len(fields), "field is", "fields are") + " invalid", Errors: fields,
	})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// problems is the one table from the service layer's error kinds to problems.
var problems = map[casework.Kind]Problem{
	casework.Invalid:             {Type: typeValidation, Status: http.StatusUnprocessableEntity},
	casework.NotFound:            {Type: typeNotFound, Status: http.StatusNotFound},
	casework.Unauthenticated:     {Type: typeUnauthorized, Status: http.StatusUnauthorized},
	casework.IdempotencyMismatch: {Type: typeIdempotency, Status: http.StatusUnprocessableEntity},
	casework.Conflict:            {Type: typeConflict, Status: http.StatusConflict, Title: "Invalid transition"},
	casework.Forbidden:           {Type: typeForbidden, Status: http.StatusForbidden},
	casework.QuotaExceeded:       {Type: typeQuota, Status: http.StatusTooManyRequests, Title: "Chamber quota exceeded"},
	casework.Unavailable: {Type: typeUnavailable, Status: http.StatusServiceUnavailable,
		Detail: "case processing is temporarily unavailable; retry with the same Idempotency-Key"},
}

// serviceProblem answers a service-layer Error with its problem and reports
// true; it reports false for any other error. title names an invalid request
// (e.g. "Invalid application").
func serviceProblem(c *gin.Context, err error, title string) bool {
	var e *casework.Error
	if !errors.As(err, &e) {
		return false
	}
	p, ok := problems[e.Kind]
	if !ok {
		return false
	}
	if e.Message != "" {
		p.Detail = e.Message
	}
	switch e.Kind {
	case casework.Invalid:
		if len(e.Fields) > 0 {
			p.Title, p.Errors = title, problemFields(e.Fields)
			if e.Message == "" {
				p.Detail = plural(len(e.Fields), "field is", "fields are") + " invalid"
			}
		}
	case casework.Unavailable:
		c.Header("Retry-After", "5")
	case casework.QuotaExceeded:
		c.Header("Retry-After", strconv.Itoa(int(max(e.RetryAfter.Seconds(), 1))))
	}
	writeProblem(c, p)
	return true
}

func problemFields(errs domain.FieldErrors) []ProblemField {
	fields := make([]ProblemField, 0, len(errs))
	for _, e := range errs {
		fields = append(fields, ProblemField{Pointer: e.Pointer, Detail: e.Detail, Code: e.Code})
	}
	return fields
}
