package web

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/livematch/livematch/engine"
)

// The steps every console page that lists or edits API objects takes the
// same way — reading a page of a list, reading a posted form, answering
// an API write (success, 400, 412) — and editor, the whole flow of the
// pages that edit one kind of API object with one form.

// listPage is one page of an API list, with the links to its neighbours.
type listPage[T any] struct {
	Items []T
	Pager pager
}

// loadList reads one page of the API list at path: limit items from the
// cursor in the page's address. false when it failed (the error page is
// written).
func loadList[T any](w http.ResponseWriter, rq *request, path string, limit int) (listPage[T], bool) {
	in := rq.r.URL.Query()
	cursor := in.Get("cursor")
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	res := rq.call(http.MethodGet, path, q, nil, 0)
	if !res.OK() {
		rq.failAPI(w, res)
		return listPage[T]{}, false
	}
	var out struct {
		Items      []T    `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if err := res.decode(&out); err != nil {
		rq.failErr(w, fmt.Errorf("decoding %s: %w", path, err))
		return listPage[T]{}, false
	}
	lp := listPage[T]{Items: out.Items}
	lp.Pager, _ = pages(rq, url.Values{}, cursor, in.Get("trail"), out.NextCursor, len(out.Items))
	return lp, true
}

// loadOne reads one API object into a T, with its JSON as the API sent
// it; false when it failed (the error page is written).
func loadOne[T any](w http.ResponseWriter, rq *request, path string) (T, []byte, bool) {
	var v T
	res := rq.call(http.MethodGet, path, nil, nil, 0)
	if !res.OK() {
		rq.failAPI(w, res)
		return v, nil, false
	}
	if err := res.decode(&v); err != nil {
		rq.failErr(w, fmt.Errorf("decoding %s: %w", path, err))
		return v, nil, false
	}
	return v, res.Body, true
}

// postedForm is a form's submission: its values (a copy) without the
// console's own fields — csrf_token, version and those named — and the
// version the form was loaded at.
func postedForm(rq *request, own ...string) (url.Values, int64) {
	_ = rq.r.ParseForm()
	version, _ := strconv.ParseInt(strings.TrimSpace(rq.r.PostForm.Get("version")), 10, 64)
	out := url.Values{}
	for k, vs := range rq.r.PostForm {
		if k == "csrf_token" || k == "version" || slices.Contains(own, k) {
			continue
		}
		out[k] = slices.Clone(vs)
	}
	return out, version
}

// formProblem is a rejected form shown again: what was typed, with the
// API's messages by their fields; the messages of list items
// (categories[1]) go to the list's own field, where the form shows them.
func formProblem(vals url.Values, p *problem, lists []string) *Form {
	f := newForm(vals).withProblem(p)
	foldListErrors(f, lists)
	return f
}

// foldListErrors moves the messages of list items (categories[1]) to the
// list's own field.
func foldListErrors(f *Form, lists []string) {
	for _, l := range lists {
		var msgs []string
		for i := 0; i <= engine.MaxProfileList+1; i++ {
			k := l + "[" + strconv.Itoa(i) + "]"
			if m, ok := f.Errors[k]; ok {
				msgs = append(msgs, m)
				delete(f.Errors, k)
			}
		}
		if len(msgs) == 0 {
			continue
		}
		if prev := f.Errors[l]; prev != "" {
			msgs = append([]string{prev}, msgs...)
		}
		f.Errors[l] = strings.Join(msgs, "; ")
	}
}

// afterWrite answers an API write made from a form: a success leaves the
// flash message (a catalogue key) and redirects to next; an answer whose
// status is one of shown (400, 412, 413: what the form can show) is left
// to the caller, which shows the form again (true); anything else is the
// error page.
func (rq *request) afterWrite(w http.ResponseWriter, res *apiResult, flashKey, next string, shown ...int) bool {
	switch {
	case res.OK():
		rq.flash(flashKey)
		rq.redirect(w, next)
	case slices.Contains(shown, res.Status):
		return true
	default:
		rq.failAPI(w, res)
	}
	return false
}

// editor is the flow of the pages that edit one kind of API object with
// one form under its version (a demand profile, a host, a host request):
// its new, create, show, save and delete handlers are the same but for
// what is described here.
type editor struct {
	api     string // the API's collection: "/v1/hosts"
	console string // the console's pages: "/console/hosts"
	page    string // the form's template
	// lists are the list fields whose items the API names by index.
	lists []string
	// blank are the values of a new object's form.
	blank url.Values
	// body is the API's JSON of the form's values; values the form's
	// values of an object as the API returns it.
	body   func(url.Values) map[string]any
	values func(obj map[string]any) url.Values
	// data is the page's data: id "" and version 0 for a new object. An
	// object's page also reads what it shows beside the form.
	data func(rq *request, id string, version int64, f *Form, stale bool) any
	// titleField is the field that names an object on its page's title.
	titleField string
	// own: the API shows these objects to other orgs too, and the console
	// edits only the org's own; another org's is not found.
	own bool
	// listAfterCreate: a created object leads to the list (else to its
	// page).
	listAfterCreate bool
	// Catalogue keys: the titles of the new and the edit form; the flash
	// messages after creating, deleting, and a delete that met a newer
	// version.
	newKey, editKey, createdKey, deletedKey, staleDeleteKey string
}

// versioned is what the console reads of any object it edits.
type versioned struct {
	OrgID   string `json:"org_id"`
	Version int64  `json:"version"`
}

// routes registers the pages of the objects under e.console for roles.
func (e *editor) routes(s *Server, roles []engine.OrgKind) {
	s.mux.Handle("GET "+e.console+"/new", s.page(roles, e.blankForm))
	s.mux.Handle("POST "+e.console+"/new", s.page(roles, e.create))
	s.mux.Handle("GET "+e.console+"/{id}", s.page(roles, e.show))
	s.mux.Handle("POST "+e.console+"/{id}", s.page(roles, e.save))
	s.mux.Handle("POST "+e.console+"/{id}/delete", s.page(roles, e.remove))
}

// apiPath is an object's API address; pagePath its console page.
func (e *editor) apiPath(id string) string  { return e.api + "/" + url.PathEscape(id) }
func (e *editor) pagePath(id string) string { return e.console + "/" + url.PathEscape(id) }

// render shows the form.
func (e *editor) render(w http.ResponseWriter, rq *request, status int, title, id string, version int64, f *Form, stale bool) {
	rq.render(w, status, e.page, title, e.data(rq, id, version, f, stale))
}

// blankForm shows a new object's form.
func (e *editor) blankForm(w http.ResponseWriter, rq *request) {
	e.render(w, rq, http.StatusOK, rq.T(e.newKey), "", 0, newForm(maps.Clone(e.blank)), false)
}

// create posts a new object: its page (or the list) after a success, the
// form again with the API's messages after a 400.
func (e *editor) create(w http.ResponseWriter, rq *request) {
	vals, _ := postedForm(rq)
	res := rq.call(http.MethodPost, e.api, nil, e.body(vals), 0)
	if res.Status == http.StatusBadRequest {
		e.render(w, rq, http.StatusBadRequest, rq.T(e.newKey), "", 0, formProblem(vals, res.Problem, e.lists), false)
		return
	}
	if !res.OK() {
		rq.failAPI(w, res)
		return
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := res.decode(&created); err != nil {
		rq.failErr(w, fmt.Errorf("decoding the created object: %w", err))
		return
	}
	rq.flash(e.createdKey)
	if e.listAfterCreate {
		rq.redirect(w, e.console)
		return
	}
	rq.redirect(w, e.pagePath(created.ID))
}

// show is an object's page: its form, filled.
func (e *editor) show(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	o, raw, ok := loadOne[versioned](w, rq, e.apiPath(id))
	if !ok {
		return
	}
	if e.own && o.OrgID != rq.se.org.ID { // another org's: not ours to edit
		rq.fail(w, http.StatusNotFound, rq.T("error.not_found"))
		return
	}
	vals := e.values(decodeObject(raw))
	title := strings.TrimSpace(vals.Get(e.titleField))
	if title == "" {
		title = rq.T(e.editKey)
	}
	e.render(w, rq, http.StatusOK, title, id, o.Version, newForm(vals), false)
}

// save writes an object's form under the version it was loaded at: its
// page after a success; after a 400 the form again with the API's
// messages; after a 412 (someone saved first) the form again with what
// was typed, marked stale, at the current version, so that saving again
// overwrites knowingly.
func (e *editor) save(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	vals, version := postedForm(rq)
	res := rq.call(http.MethodPut, e.apiPath(id), nil, e.body(vals), version)
	if !rq.afterWrite(w, res, "form.saved", e.pagePath(id), http.StatusBadRequest, http.StatusPreconditionFailed) {
		return
	}
	if res.Status == http.StatusBadRequest {
		e.render(w, rq, res.Status, rq.T(e.editKey), id, version, formProblem(vals, res.Problem, e.lists), false)
		return
	}
	cur, _, ok := loadOne[versioned](w, rq, e.apiPath(id))
	if !ok {
		return
	}
	e.render(w, rq, res.Status, rq.T(e.editKey), id, cur.Version, newForm(vals), true)
}

// remove deletes an object under the version its page was loaded at: the
// list after a success; its page again with a message after a 412.
func (e *editor) remove(w http.ResponseWriter, rq *request) {
	id := rq.r.PathValue("id")
	_, version := postedForm(rq)
	res := rq.call(http.MethodDelete, e.apiPath(id), nil, nil, version)
	if rq.afterWrite(w, res, e.deletedKey, e.console, http.StatusPreconditionFailed) {
		rq.flash(e.staleDeleteKey)
		rq.redirect(w, e.pagePath(id))
	}
}
