package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/visad/visad/domain"
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
	ExistingReference string `json:"existing_reference,omitempty"`
	RequestID         string `json:"request_id,omitempty"`
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
	typeDuplicate    = "urn:visad:problem:duplicate-application"
	typeConflict     = "urn:visad:problem:invalid-transition"
	typeIdempotency  = "urn:visad:problem:idempotency-key-reused"
	typeUnavailable  = "urn:visad:problem:service-unavailable"
	typeInternal     = "urn:visad:problem:internal-error"
	typeBatchFormat  = "urn:visad:problem:unreadable-upload"
	typeRateLimited  = "urn:visad:problem:rate-limited"
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
	fields := make([]ProblemField, 0, len(errs))
	for _, e := range errs {
		fields = append(fields, ProblemField{Pointer: e.Pointer, Detail: e.Detail, Code: e.Code})
	}
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
