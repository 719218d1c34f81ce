package api

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livematch/livematch/engine"
)

// authzPolicy says who may call a route: kinds allowed regardless of
// ownership, and whether the owner of the object in the path may.
type authzPolicy struct {
	kinds []engine.OrgKind // nil: every kind
	owner bool             // the org that owns the object in the path
	only  bool             // kinds are not enough: only the owner (or a listed kind that owns) may
}

var (
	suppliers  = []engine.OrgKind{engine.OrgFactory, engine.OrgCooperative, engine.OrgImporter}
	requesters = []engine.OrgKind{engine.OrgCrossborderFirm, engine.OrgImporter}
	adminOnly  = []engine.OrgKind{engine.OrgAdmin}
)

// authzPolicies is the authorization contract of every /v1 route. A route
// missing here fails TestAuthorizationMatrix, so no new route escapes it.
var authzPolicies = map[string]authzPolicy{
	"POST /v1/orgs":                       {kinds: adminOnly},
	"GET /v1/orgs":                        {kinds: adminOnly},
	"GET /v1/orgs/:id":                    {kinds: adminOnly, owner: true},
	"PATCH /v1/orgs/:id":                  {kinds: adminOnly},
	"POST /v1/orgs/:id/keys":              {kinds: adminOnly, owner: true},
	"GET /v1/orgs/:id/audit":              {kinds: adminOnly, owner: true},
	"POST /v1/products":                   {kinds: suppliers},
	"POST /v1/products:bulk":              {kinds: suppliers},
	"GET /v1/products":                    {},
	"GET /v1/products/:id":                {},
	"PUT /v1/products/:id":                {owner: true, only: true},
	"DELETE /v1/products/:id":             {owner: true, only: true},
	"PATCH /v1/products/:id/stock":        {owner: true, only: true},
	"PATCH /v1/products/:id/review":       {kinds: adminOnly},
	"GET /v1/products/:id/buyers":         {owner: true, only: true},
	"POST /v1/demand-profiles":            {kinds: []engine.OrgKind{engine.OrgMCN}},
	"GET /v1/demand-profiles":             {kinds: []engine.OrgKind{engine.OrgMCN, engine.OrgAdmin}},
	"GET /v1/demand-profiles/:id":         {kinds: adminOnly, owner: true},
	"PUT /v1/demand-profiles/:id":         {owner: true, only: true},
	"DELETE /v1/demand-profiles/:id":      {owner: true, only: true},
	"GET /v1/demand-profiles/:id/matches": {kinds: adminOnly, owner: true},
	"POST /v1/match/products":             {kinds: []engine.OrgKind{engine.OrgMCN, engine.OrgAdmin}},
	"POST /v1/hosts":                      {kinds: []engine.OrgKind{engine.OrgMCN}},
	"GET /v1/hosts":                       {},
	"GET /v1/hosts/:id":                   {},
	"PUT /v1/hosts/:id":                   {owner: true, only: true},
	"DELETE /v1/hosts/:id":                {owner: true, only: true},
	"POST /v1/host-requests":              {kinds: requesters},
	"GET /v1/host-requests":               {kinds: append([]engine.OrgKind{engine.OrgAdmin}, requesters...)},
	"GET /v1/host-requests/:id":           {kinds: adminOnly, owner: true},
	"PUT /v1/host-requests/:id":           {owner: true, only: true},
	"DELETE /v1/host-requests/:id":        {owner: true, only: true},
	"GET /v1/host-requests/:id/matches":   {kinds: adminOnly, owner: true},
	"POST /v1/match/hosts":                {kinds: append([]engine.OrgKind{engine.OrgAdmin}, requesters...)},
	"GET /v1/index/status":                {kinds: adminOnly},
	"GET /v1/review/queue":                {kinds: adminOnly},
}

// allowed applies a policy to a caller of the given kind that does or does
// not own the object in the path.
func (p authzPolicy) allowed(kind engine.OrgKind, owns bool) bool {
	if owns && p.owner {
		return true
	}
	if p.only {
		return false
	}
	if p.kinds == nil {
		return true
	}
	for _, k := range p.kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// TestAuthorizationMatrix calls every /v1 route (from the router's own list)
// as every org kind, as the owner of the object in the path and as another
// org of the same kind, and without a key: allowed calls succeed, others
// answer 401, 403 or 404, and nothing answers 5xx.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t, envOpts{now: func() time.Time { return matchClock }})
	kinds := []engine.OrgKind{engine.OrgFactory, engine.OrgCooperative, engine.OrgImporter, engine.OrgMCN, engine.OrgCrossborderFirm}
	type org struct {
		id, key string
		kind    engine.OrgKind
	}
	owners, others := map[engine.OrgKind]*org{}, map[engine.OrgKind]*org{}
	for _, k := range kinds {
		id, key := e.newOrg(k, "360732")
		owners[k] = &org{id, key, k}
		id, key = e.newOrg(k, "330782")
		others[k] = &org{id, key, k}
	}
	admin := &org{"org_admin", e.admin, engine.OrgAdmin}
	n := 0
	// fresh creates a new object of the kind the path names, owned by the
	// owner org of that kind, and returns its id and its owner.
	fresh := func(path string) (string, *org) {
		n++
		switch {
		case strings.HasPrefix(path, "/v1/orgs/"):
			return owners[engine.OrgCooperative].id, owners[engine.OrgCooperative]
		case strings.HasPrefix(path, "/v1/products/"):
			o := owners[engine.OrgCooperative]
			r := e.must(201, "POST", "/v1/products", o.key, product(fmt.Sprintf("AUTHZ-%d", n)))
			return r.body["id"].(string), o
		case strings.HasPrefix(path, "/v1/demand-profiles/"):
			o := owners[engine.OrgMCN]
			r := e.must(201, "POST", "/v1/demand-profiles", o.key, map[string]any{"name": "p", "keywords": "脐橙"})
			return r.body["id"].(string), o
		case strings.HasPrefix(path, "/v1/hosts/"):
			o := owners[engine.OrgMCN]
			r := e.must(201, "POST", "/v1/hosts", o.key, lily())
			return r.body["id"].(string), o
		case strings.HasPrefix(path, "/v1/host-requests/"):
			o := owners[engine.OrgCrossborderFirm]
			r := e.must(201, "POST", "/v1/host-requests", o.key, map[string]any{"title": "t", "target_markets": []string{"MY"}})
			return r.body["id"].(string), o
		}
		return "", nil
	}
	body := func(method, path string) any {
		switch {
		case method == "GET" || method == "DELETE":
			return nil
		case path == "/v1/products:bulk":
			return mustJSON(t, product(fmt.Sprintf("BULK-%d", n)))
		case strings.HasSuffix(path, "/stock"):
			return map[string]any{"stock": 5}
		case strings.HasSuffix(path, "/review"):
			return map[string]any{"review_status": "approved"}
		case strings.HasPrefix(path, "/v1/orgs/:id/keys"):
			return nil
		case path == "/v1/orgs":
			return map[string]any{"kind": "mcn", "name_zh": "新", "region_code": "310101"}
		case strings.HasPrefix(path, "/v1/orgs/"):
			return map[string]any{"grade": "A"}
		case strings.HasPrefix(path, "/v1/products"):
			return product("AUTHZ-PUT")
		case strings.Contains(path, "demand-profiles") || path == "/v1/match/products":
			return map[string]any{"name": "p", "keywords": "脐橙"}
		case strings.HasPrefix(path, "/v1/hosts"):
			return lily()
		default: // host requests and host matching
			return map[string]any{"title": "t", "target_markets": []string{"MY"}}
		}
	}
	seen := 0
	for _, rt := range e.server.Routes() {
		if !strings.HasPrefix(rt.Path, "/v1/") || strings.HasPrefix(rt.Path, "/v1/meta/") {
			continue
		}
		route := rt.Method + " " + rt.Path
		policy, ok := authzPolicies[route]
		if !ok {
			t.Errorf("%s has no authorization policy in authzPolicies", route)
			continue
		}
		seen++
		callers := []*org{admin}
		for _, k := range kinds {
			callers = append(callers, owners[k], others[k])
		}
		for _, c := range append(callers, nil) {
			path := rt.Path
			var owner *org
			if strings.Contains(path, ":id") {
				var id string
				id, owner = fresh(path)
				path = strings.Replace(path, ":id", id, 1)
			}
			b := body(rt.Method, rt.Path)
			if rt.Method == "PUT" && strings.HasPrefix(rt.Path, "/v1/products/") {
				// A PUT keeps the sku of the product it replaces.
				p := e.must(200, "GET", path, admin.key, nil)
				b = product(p.body["sku"].(string))
			}
			key, who := "", "no key"
			if c != nil {
				key, who = c.key, string(c.kind)
				if c == owner {
					who += " (owner)"
				}
			}
			r := e.do(rt.Method, path, key, b)
			switch {
			case r.status >= 500:
				t.Errorf("%s as %s: %d %s", route, who, r.status, r.raw)
			case c == nil:
				if r.status != 401 {
					t.Errorf("%s without a key: %d", route, r.status)
				}
			case policy.allowed(c.kind, c == owner):
				if r.status >= 300 {
					t.Errorf("%s as %s: %d, want success: %s", route, who, r.status, r.raw)
				}
			default:
				if r.status != 403 && r.status != 404 {
					t.Errorf("%s as %s: %d, want 403 or 404: %s", route, who, r.status, r.raw)
				}
			}
			// A key rotation replaces the org's key: keep the new one.
			if strings.HasSuffix(rt.Path, "/keys") && r.status == 201 && owner != nil {
				owner.key = r.body["api_key"].(string)
			}
		}
	}
	if seen < len(authzPolicies) {
		t.Errorf("%d policies but only %d routes: a policy names a route that does not exist", len(authzPolicies), seen)
	}
}
