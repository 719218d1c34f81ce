package web

import (
	"net/http"
	"net/url"
)

// matchList is the API's answer to a match: the explained matches
// (products for a demand profile, hosts for a host request), how many
// candidates each gate removed, how many were scored and how long it took.
type matchList[T any] struct {
	Items      []T            `json:"items"`
	Excluded   map[string]int `json:"excluded"`
	Candidates int64          `json:"candidates"`
	TookMS     int64          `json:"took_ms"`
}

// matchBlock is what a page's matches block shows: the matches, or why
// there are none.
type matchBlock[T any] struct {
	Matches *matchList[T]
	// MatchForm carries the API's messages when a preview's values are bad.
	MatchForm *Form
	// MatchError is a message when matching failed otherwise.
	MatchError string
	// Preview marks matches of unsaved values.
	Preview bool
}

// stored fills the block with the stored object's matches (GET path).
func (mb *matchBlock[T]) stored(rq *request, path string, lists []string) {
	mb.fill(rq, rq.call(http.MethodGet, path, url.Values{"limit": {"20"}}, nil, 0), lists)
}

// preview fills the block with the matches of a form's unsaved values
// (POST body to path), without storing them.
func (mb *matchBlock[T]) preview(rq *request, path string, body any, lists []string) {
	mb.Preview = true
	mb.fill(rq, rq.call(http.MethodPost, path, url.Values{"limit": {"20"}}, body, 0), lists)
}

// fill reads a match answer into the block: the matches, the API's
// messages for bad values (those of list items on the list's field), or
// a message.
func (mb *matchBlock[T]) fill(rq *request, res *apiResult, lists []string) {
	switch {
	case res.OK():
		var m matchList[T]
		if err := res.decode(&m); err != nil {
			mb.MatchError = rq.T("error.internal")
			return
		}
		mb.Matches = &m
	case res.Status == http.StatusBadRequest:
		mb.MatchForm = formProblem(nil, res.Problem, lists)
	default:
		mb.MatchError = rq.apiMessage(res)
	}
}
