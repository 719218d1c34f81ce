package api

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/livematch/livematch/engine"
)

// listPage is one page of a list endpoint: ?limit= (default 20, clamped to
// 1..100) items after ?cursor=, in id order.
type listPage struct {
	limit int
	after string // last id of the previous page; "" for the first
}

// pageParams reads ?limit= and ?cursor= of a list endpoint, naming the bad
// parameter.
func pageParams(c *gin.Context) (listPage, error) {
	var p engine.Problems
	limit, err := limitParam(c)
	if err != nil {
		p.Add("limit", "must be a whole number from 1 to 100")
	}
	var after string
	if v := c.Query("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		id, ok := bytes.CutPrefix(b, []byte("k:"))
		if err != nil || !ok || len(id) == 0 {
			p.Add("cursor", "is not a cursor from this API")
		}
		after = string(id)
	}
	return listPage{limit: limit, after: after}, p.Err("api.pageParams")
}

// cut sorts items by id and returns the page after the cursor and the
// cursor of the next page ("" on the last page).
func cut[T any](pg listPage, items []T, id func(T) string) ([]T, string) {
	slices.SortFunc(items, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	start, _ := slices.BinarySearchFunc(items, pg.after, func(it T, after string) int {
		if c := strings.Compare(id(it), after); c != 0 {
			return c
		}
		return -1 // the cursor's own item belongs to the previous page
	})
	if pg.after == "" {
		start = 0
	}
	rest := items[start:]
	if len(rest) <= pg.limit {
		return slices.Clip(rest), ""
	}
	page := rest[:pg.limit]
	return page, base64.RawURLEncoding.EncodeToString([]byte("k:" + id(page[len(page)-1])))
}
