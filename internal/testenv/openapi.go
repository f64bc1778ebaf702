package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/visad/visad/api"
)

var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

// OpenAPI loads and validates api/openapi.yaml (as embedded in the api
// package) once per process, with a router that finds its operations.
func OpenAPI() (*openapi3.T, routers.Router, error) {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(api.OpenAPISpec())
		if err != nil {
			specErr = fmt.Errorf("load openapi.yaml: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			specErr = fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
			return
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			specErr = fmt.Errorf("openapi router: %w", err)
			return
		}
		specDoc, specRouter = doc, router
	})
	return specDoc, specRouter, specErr
}

var filterOptions = &openapi3filter.Options{
	MultiError: true,
	// Undocumented status codes fail instead of passing silently.
	IncludeResponseStatus: true,
	// Authentication is the server's job, and tests call protected routes without
	// a token on purpose; the 401 problems they get are validated like any response.
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
}

// checkOpenAPI validates one exchange against the spec and reports every
// mismatch with t.Errorf. The request is skipped when validateRequest is
// false (a test that sends a malformed request on purpose); its response is
// always checked. A request to a path or method the spec does not declare
// must be answered with a 404 or 405 problem document.
func (e *Env) checkOpenAPI(req *http.Request, reqBody []byte, resp Response, validateRequest bool) {
	e.T.Helper()
	doc, router, err := OpenAPI()
	if err != nil {
		e.T.Errorf("openapi: %v", err)
		return
	}
	where := req.Method + " " + req.URL.RequestURI()

	// A fresh copy of the request: the one sent has had its body consumed.
	vreq, err := http.NewRequest(req.Method, req.URL.String(), bytes.NewReader(reqBody))
	if err != nil {
		e.T.Errorf("openapi: %s: %v", where, err)
		return
	}
	vreq.Header = req.Header.Clone()

	route, pathParams, err := router.FindRoute(vreq)
	if err != nil {
		var want int
		switch {
		case errors.Is(err, routers.ErrPathNotFound):
			want = http.StatusNotFound
		case errors.Is(err, routers.ErrMethodNotAllowed):
			want = http.StatusMethodNotAllowed
		default:
			e.T.Errorf("openapi: %s: %v", where, err)
			return
		}
		if resp.Status != want {
			e.T.Errorf(
				"openapi: %s is not in the spec (%v), so it must answer %d, not %d: %s",
				where,
				err,
				want,
				resp.Status,
				resp.Body,
			)
			return
		}
		e.checkProblem(doc, where, resp)
		return
	}

	input := &openapi3filter.RequestValidationInput{
		Request: vreq, PathParams: pathParams, Route: route, Options: filterOptions,
	}
	if validateRequest {
		if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
			e.T.Errorf("openapi: request %s does not match the spec:\n%v\nbody: %s", where, err, truncate(reqBody))
		}
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 resp.Status,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(resp.Body)),
		Options:                filterOptions,
	})
	if err != nil {
		e.T.Errorf(
			"openapi: response %d to %s does not match the spec:\n%v\nbody: %s",
			resp.Status,
			where,
			err,
			truncate(resp.Body),
		)
	}
}

// checkProblem validates a response to an undeclared route against the Problem schema.
func (e *Env) checkProblem(doc *openapi3.T, where string, resp Response) {
	e.T.Helper()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != api.ProblemContentType {
		e.T.Errorf(
			"openapi: %d to %s has content type %q, want %s",
			resp.Status,
			where,
			resp.Header.Get("Content-Type"),
			api.ProblemContentType,
		)
		return
	}
	if resp.Header.Get("X-Request-ID") == "" {
		e.T.Errorf("openapi: %d to %s has no X-Request-ID", resp.Status, where)
	}
	var body any
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		e.T.Errorf("openapi: %d to %s is not JSON: %v", resp.Status, where, err)
		return
	}
	schema := doc.Components.Schemas["Problem"]
	if schema == nil || schema.Value == nil {
		e.T.Errorf("openapi: the spec has no Problem schema")
		return
	}
	if err := schema.Value.VisitJSON(body, openapi3.MultiErrors()); err != nil {
		e.T.Errorf("openapi: %d to %s is not a Problem:\n%v\nbody: %s", resp.Status, where, err, truncate(resp.Body))
	}
}

func truncate(b []byte) string {
	const max = 2000
	if len(b) > max {
		return fmt.Sprintf("%s… (%d bytes)", b[:max], len(b))
	}
	return string(b)
}
