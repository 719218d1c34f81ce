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
	// co: the other party of a deal in the path (the supplier whose product
	// an MCN's reservation or sample request is for) may too.
	co bool
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
	"POST /v1/reservations":               {kinds: []engine.OrgKind{engine.OrgMCN}},
	"GET /v1/reservations":                {},
	"GET /v1/reservations/:id":            {kinds: adminOnly, owner: true, co: true},
	"POST /v1/reservations/:id":           {owner: true, co: true, only: true}, // :cancel, either side
	"POST /v1/reservations/:id/result":    {owner: true, only: true},
	"GET /v1/reservations/:id/audit":      {kinds: adminOnly, owner: true, co: true},
	"POST /v1/sample-requests":            {kinds: []engine.OrgKind{engine.OrgMCN}},
	"GET /v1/sample-requests":             {},
	"GET /v1/sample-requests/:id":         {kinds: adminOnly, owner: true, co: true},
	"POST /v1/sample-requests/:id":        {co: true, only: true}, // :accept, the supplier
	"GET /v1/sample-requests/:id/audit":   {kinds: adminOnly, owner: true, co: true},
	"GET /v1/index/status":                {kinds: adminOnly},
	"GET /v1/review/queue":                {kinds: adminOnly},
}

// allowed applies a policy to a caller of the given kind that does or does
// not own the object in the path.
func (p authzPolicy) allowed(kind engine.OrgKind, owns, co bool) bool {
	if owns && p.owner || co && p.co {
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
	var freshObject func(path string) (string, *org)
	bodies := 0
	// deal makes a product of the cooperative owner and a reservation or
	// sample request of the MCN owner on it; a reservation for /result is
	// confirmed and shipped first.
	deal := func(path string) (string, *org, *org) {
		mcn, coop := owners[engine.OrgMCN], owners[engine.OrgCooperative]
		p := product(fmt.Sprintf("DEAL-%d", n))
		p["sample_available"] = true
		pid := e.must(201, "POST", "/v1/products", coop.key, p).body["id"].(string)
		if strings.HasPrefix(path, "/v1/sample-requests/") {
			r := e.must(201, "POST", "/v1/sample-requests", mcn.key, map[string]any{"product_id": pid, "ship_to_region": "330106"})
			return r.body["id"].(string), mcn, coop
		}
		id := e.must(201, "POST", "/v1/reservations", mcn.key, map[string]any{"product_id": pid, "units": 3, "stream_date": "2027-01-20"}).body["id"].(string)
		if strings.HasSuffix(path, "/result") {
			e.must(200, "POST", "/v1/reservations/"+id+":confirm", coop.key, nil)
			e.must(200, "POST", "/v1/reservations/"+id+":ship", coop.key, map[string]any{"tracking_no": "SF1"})
		}
		return id, mcn, coop
	}
	// fresh creates a new object of the kind the path names, owned by the
	// owner org of that kind, and returns its id and its owner (and for a
	// deal, the other party).
	fresh := func(path string) (string, *org, *org) {
		n++
		if strings.HasPrefix(path, "/v1/reservations/") || strings.HasPrefix(path, "/v1/sample-requests/") {
			return deal(path)
		}
		id, o := freshObject(path)
		return id, o, nil
	}
	freshObject = func(path string) (string, *org) {
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
		case path == "/v1/reservations":
			bodies++
			p := product(fmt.Sprintf("RSV-%d", bodies))
			pid := e.must(201, "POST", "/v1/products", owners[engine.OrgFactory].key, p).body["id"].(string)
			return map[string]any{"product_id": pid, "units": 2, "stream_date": "2027-01-20"}
		case path == "/v1/sample-requests":
			bodies++
			p := product(fmt.Sprintf("SMP-%d", bodies))
			p["sample_available"] = true
			pid := e.must(201, "POST", "/v1/products", owners[engine.OrgFactory].key, p).body["id"].(string)
			return map[string]any{"product_id": pid, "ship_to_region": "330106"}
		case path == "/v1/reservations/:id/result":
			return map[string]any{"units_sold": 2, "units_returned": 0, "rating": 4}
		case strings.HasPrefix(path, "/v1/reservations/") || strings.HasPrefix(path, "/v1/sample-requests/"):
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
			var owner, co *org
			if strings.Contains(path, ":id") {
				var id string
				id, owner, co = fresh(path)
				switch rt.Method + " " + rt.Path {
				case "POST /v1/reservations/:id":
					id += ":cancel"
				case "POST /v1/sample-requests/:id":
					id += ":accept"
				}
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
				if c == co {
					who += " (other party)"
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
			case policy.allowed(c.kind, c == owner, c != nil && c == co):
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
