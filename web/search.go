package web

import (
	"net/http"
	"net/url"
	"strings"
)

// searchParams are the API search parameters the search page passes on.
var searchParams = []string{"q", "category", "certification", "province", "poverty_relief", "in_stock",
	"price_min", "price_max", "commission_min"}

// searchResult is the API's search answer.
type searchResult struct {
	Items      []product                 `json:"items"`
	NextCursor string                    `json:"next_cursor"`
	Total      int                       `json:"total"`
	Facets     map[string]map[string]int `json:"facets"`
}

// facetLink is one facet value with its count and the address that
// filters by it (or drops the filter when it is on).
type facetLink struct {
	Value, Label, Href string
	Count              int
	On                 bool
}

// searchPage is the search page's data.
type searchPage struct {
	Form    *Form
	Ran     bool
	Result  searchResult
	Facets  map[string][]facetLink
	Pager   pager
	First   int // 1-based number of the first item shown
	Partial bool
}

// pager links the previous and next pages: the cursor of the page and the
// trail of earlier cursors travel in the address.
type pager struct {
	Prev, Next           string
	PrevLabel, NextLabel string
}

func (s *Server) search(w http.ResponseWriter, rq *request) {
	in := rq.r.URL.Query()
	q := url.Values{}
	for _, k := range searchParams {
		if v := strings.TrimSpace(in.Get(k)); v != "" {
			q.Set(k, v)
		}
	}
	data := searchPage{Form: newForm(q)}
	// An empty page shows the form and the whole catalogue's facets.
	cursor, trail := in.Get("cursor"), in.Get("trail")
	apiQ := url.Values{"limit": {"20"}}
	for k, v := range q {
		apiQ[k] = v
	}
	if cursor != "" {
		apiQ.Set("cursor", cursor)
	}
	res := rq.call(http.MethodGet, "/v1/products", apiQ, nil, 0)
	switch {
	case res.Status == http.StatusBadRequest:
		data.Form.withProblem(res.Problem)
		rq.render(w, http.StatusBadRequest, "search", rq.T("search.title"), data)
		return
	case !res.OK():
		rq.failAPI(w, res)
		return
	}
	if err := res.decode(&data.Result); err != nil {
		rq.failErr(w, err)
		return
	}
	data.Ran = true
	data.Facets = facetLinks(rq, data.Form.Values, data.Result.Facets)
	data.Pager, data.First = pages(rq, data.Form.Values, cursor, trail, data.Result.NextCursor, len(data.Result.Items))
	if rq.r.Header.Get("HX-Request") == "true" && rq.r.Header.Get("HX-Target") == "results" {
		rq.renderBlock(w, http.StatusOK, "search", "results", rq.T("search.title"), data)
		return
	}
	rq.render(w, http.StatusOK, "search", rq.T("search.title"), data)
}

// facetLinks builds each facet's values as filter links.
func facetLinks(rq *request, cur url.Values, facets map[string]map[string]int) map[string][]facetLink {
	v := &view{rq: rq, Lang: rq.lang}
	out := map[string][]facetLink{}
	for name, counts := range facets {
		var links []facetLink
		for val, n := range counts {
			if n == 0 {
				continue
			}
			q := url.Values{}
			for k, vs := range cur {
				q[k] = vs
			}
			on := cur.Get(name) == val
			if on {
				q.Del(name)
			} else {
				q.Set(name, val)
			}
			label := val
			switch name {
			case "category":
				label = v.Cat(val)
			case "certification":
				label = v.Cert(val)
			case "poverty_relief":
				label = rq.T("search.relief." + val)
			case "province":
				label = rq.s.provinceName(rq, val)
			}
			links = append(links, facetLink{Value: val, Label: label, Count: n, On: on, Href: "/console/search?" + q.Encode()})
		}
		sortFacets(links)
		out[name] = links
	}
	return out
}

func sortFacets(ls []facetLink) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && (ls[j].Count > ls[j-1].Count || ls[j].Count == ls[j-1].Count && ls[j].Value < ls[j-1].Value); j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// pages links the neighbouring pages of a list read by cursor. trail holds
// the cursors of the pages before this one, space-separated ("-" for the
// first page), so "previous" needs no offset arithmetic.
func pages(rq *request, cur url.Values, cursor, trail, next string, shown int) (pager, int) {
	base := func(c, t string) string {
		q := url.Values{}
		for k, vs := range cur {
			q[k] = vs
		}
		if c != "" {
			q.Set("cursor", c)
		}
		if t != "" {
			q.Set("trail", t)
		}
		return rq.r.URL.Path + "?" + q.Encode()
	}
	var trails []string
	if trail != "" {
		trails = strings.Fields(trail)
	}
	p := pager{PrevLabel: rq.T("page.prev"), NextLabel: rq.T("page.next")}
	if cursor != "" {
		prev, rest := "-", []string(nil)
		if len(trails) > 0 {
			prev, rest = trails[len(trails)-1], trails[:len(trails)-1]
		}
		if prev == "-" {
			prev = ""
		}
		p.Prev = base(prev, strings.Join(rest, " "))
	}
	if next != "" && len(trails) < 500 {
		here := cursor
		if here == "" {
			here = "-"
		}
		p.Next = base(next, strings.TrimSpace(strings.Join(append(trails, here), " ")))
	}
	first := 1 + 20*len(trails)
	if shown == 0 {
		first = 0
	}
	return p, first
}
