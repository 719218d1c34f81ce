package api

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadOpenAPI parses the embedded document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI())
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	return doc
}

func TestOpenAPIValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("the document is not treated as OpenAPI 3.1")
	}
	if err := doc.Validate(context.Background(), openapi3.EnableMultiError()); err != nil {
		t.Fatalf("openapi.json is not valid: %v", err)
	}

	// Every operation is named, summarised, described and tagged.
	known := map[string]bool{"orgs": true, "products": true, "search": true, "meta": true, "ops": true}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || op.Summary == "" || op.Description == "" {
				t.Errorf("%s: operationId, summary and description are required", where)
			}
			if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q is also used by %s", where, op.OperationID, prev)
			}
			ids[op.OperationID] = where
			if len(op.Tags) != 1 || !known[op.Tags[0]] {
				t.Errorf("%s: tags = %v, want one of orgs, products, search, meta, ops", where, op.Tags)
			}
		}
	}
}

// openapiPublic are the routes that need no API key.
func openapiPublic(method, path string) bool {
	return method == http.MethodGet && (strings.HasPrefix(path, "/v1/meta/") ||
		slices.Contains([]string{"/healthz", "/readyz", "/metrics", "/openapi.json"}, path))
}

// ginParam matches a gin path parameter (":id") at the start of a segment.
var ginParam = regexp.MustCompile(`/:([A-Za-z_][A-Za-z0-9_]*)`)

// openapiPath converts a gin route path into OpenAPI form: "/v1/orgs/:id"
// becomes "/v1/orgs/{id}" and the escaped literal colon of
// "/v1/products\:bulk" becomes "/v1/products:bulk".
func openapiPath(ginPath string) string {
	p := strings.ReplaceAll(ginPath, `\:`, "\x00")
	p = ginParam.ReplaceAllString(p, "/{$1}")
	return strings.ReplaceAll(p, "\x00", ":")
}

func TestOpenAPIPath(t *testing.T) {
	for in, want := range map[string]string{
		"/v1/orgs/:id":        "/v1/orgs/{id}",
		"/v1/orgs/:id/audit":  "/v1/orgs/{id}/audit",
		`/v1/products\:bulk`:  "/v1/products:bulk",
		"/v1/products:bulk":   "/v1/products:bulk",
		"/v1/products/:id/st": "/v1/products/{id}/st",
		"/openapi.json":       "/openapi.json",
	} {
		if got := openapiPath(in); got != want {
			t.Errorf("openapiPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenAPICoversRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	s := New(Config{})

	documented := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			documented[method+" "+path] = op
		}
	}

	routes := map[string]bool{}
	for _, r := range s.Routes() {
		key := r.Method + " " + openapiPath(r.Path)
		routes[key] = true
		op, ok := documented[key]
		if !ok {
			t.Errorf("route %s %s (%s) is not in openapi.json", r.Method, r.Path, key)
			continue
		}
		path := openapiPath(r.Path)
		public := openapiPublic(r.Method, path)
		switch {
		case public && (op.Security == nil || len(*op.Security) != 0):
			t.Errorf("%s: a public route must have security: []", key)
		case !public && op.Security != nil:
			t.Errorf("%s: an authenticated route must use the document's bearer security", key)
		}
		if !public && op.Responses.Status(http.StatusUnauthorized) == nil {
			t.Errorf("%s: an authenticated route must document 401", key)
		}
	}
	if len(routes) == 0 {
		t.Fatal("the server has no routes")
	}
	for key := range documented {
		if !routes[key] {
			t.Errorf("openapi.json documents %s, which is not a route", key)
		}
	}

	// The bulk route is the literal path with a colon.
	if _, ok := documented[http.MethodPost+" /v1/products:bulk"]; !ok {
		t.Errorf("POST /v1/products:bulk is not documented")
	}
	if _, ok := firstRequirement(doc.Security)["bearer"]; !ok || len(doc.Security) != 1 {
		t.Errorf("the document's default security must be the bearer scheme, got %v", doc.Security)
	}
}

func firstRequirement(reqs openapi3.SecurityRequirements) openapi3.SecurityRequirement {
	if len(reqs) == 0 {
		return nil
	}
	return reqs[0]
}
