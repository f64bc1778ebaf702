package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPISpec is the OpenAPI 3 description of this API. The integration
// tests validate every request and response they make against it.
//
//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPISpec returns the OpenAPI 3 document (YAML) served at /openapi.yaml.
func OpenAPISpec() []byte { return append([]byte(nil), openAPISpec...) }

func (s *Server) openAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/yaml", openAPISpec)
}

// Route is one registered method and path pattern (Gin syntax: /v1/applications/:id).
type Route struct {
	Method string
	Path   string
}

// Routes lists the routes of a handler built by New, or of one that wraps it
// and says so (an APIHandler method); nil for any other handler.
func Routes(h http.Handler) []Route {
	if w, ok := h.(interface{ APIHandler() http.Handler }); ok {
		h = w.APIHandler()
	}
	var engine *gin.Engine
	switch e := h.(type) {
	case headAsGet:
		engine = e.Engine
	case *gin.Engine:
		engine = e
	default:
		return nil
	}
	var out []Route
	for _, r := range engine.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	return out
}
