package api

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

// prepareProduct converts and validates a product input for its owner.
func prepareProduct(in *productIn, owner *engine.Org, regions engine.RegionBook) (*engine.Product, error) {
	p, fields := in.toEngine()
	err := engine.PrepareProduct(p, owner, regions)
	if e, ok := asInvalid(err); ok {
		fields = append(fields, e.Fields...)
	} else if err != nil {
		return nil, err
	}
	if len(fields) > 0 {
		return nil, &engine.Error{Kind: engine.KindInvalid, Op: "api.product", Msg: "the product has invalid fields", Fields: fields}
	}
	p.ReviewStatus = ""
	return p, nil
}

// reviewPolicy decides the review status of a written product: new products
// start approved (pending when review is required); an update keeps its
// status unless review is required, when it goes back to pending.
func reviewPolicy(required bool) func(old, p *engine.Product) {
	return func(old, p *engine.Product) {
		switch {
		case required:
			p.ReviewStatus = engine.ReviewPending
		case old == nil:
			p.ReviewStatus = engine.ReviewApproved
		default:
			p.ReviewStatus = old.ReviewStatus
		}
	}
}

func (s *Server) upsertProduct(c *gin.Context) {
	var in productIn
	ifv, ok := s.bindIfMatch(c, &in)
	if !ok {
		return
	}
	p, err := prepareProduct(&in, caller(c), s.regions)
	if err != nil {
		s.fail(c, err)
		return
	}
	keep := reviewPolicy(s.cfg.ReviewRequired)
	keep(nil, p)
	created, err := s.store.UpsertProduct(c.Request.Context(), p, ifv, keep)
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, p.Version)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Header("Location", "/v1/products/"+p.ID)
	}
	c.JSON(status, s.productOut(p))
}

// ownProduct loads a live product the caller owns; another org's product
// answers 404 so that its existence is not revealed.
func (s *Server) ownProduct(c *gin.Context) (*engine.Product, bool) {
	p, err := s.store.GetProduct(c.Request.Context(), c.Param("id"))
	if err == nil && p.OrgID != caller(c).ID {
		err = engine.Errorf(engine.KindNotFound, "api.product", "no product %q", clipID(c.Param("id")))
	}
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return p, true
}

func (s *Server) getProduct(c *gin.Context) {
	p, err := s.store.GetProduct(c.Request.Context(), c.Param("id"))
	me := caller(c)
	if err == nil && p.ReviewStatus != engine.ReviewApproved && me.Kind != engine.OrgAdmin && me.ID != p.OrgID {
		err = engine.Errorf(engine.KindNotFound, "api.product", "no product %q", clipID(c.Param("id")))
	}
	if err == nil {
		err = s.store.FreshStock(c.Request.Context(), p)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, p.Version)
	c.JSON(http.StatusOK, s.productOut(p))
}

func (s *Server) putProduct(c *gin.Context) {
	cur, ok := s.ownProduct(c)
	if !ok {
		return
	}
	var in productIn
	ifv, ok := s.bindIfMatch(c, &in)
	if !ok {
		return
	}
	if in.SKU == "" {
		in.SKU = cur.SKU
	}
	if strings.TrimSpace(in.SKU) != cur.SKU {
		s.fail(c, engine.InvalidField("api.putProduct", "sku", "must be "+strconv.Quote(cur.SKU)+" (post a new product for a new sku)"))
		return
	}
	p, err := prepareProduct(&in, caller(c), s.regions)
	if err != nil {
		s.fail(c, err)
		return
	}
	_, err = s.store.UpsertProduct(c.Request.Context(), p, ifv, reviewPolicy(s.cfg.ReviewRequired))
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, p.Version)
	c.JSON(http.StatusOK, s.productOut(p))
}

func (s *Server) deleteProduct(c *gin.Context) {
	ifv, err := ifMatch(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	me := caller(c)
	err = s.store.DeleteProduct(c.Request.Context(), c.Param("id"), ifv, func(p *engine.Product) error {
		if p.OrgID != me.ID {
			return engine.Errorf(engine.KindNotFound, "api.deleteProduct", "no product %q", clipID(p.ID))
		}
		return nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type stockIn struct {
	Stock *int64 `json:"stock"`
}

func (s *Server) patchStock(c *gin.Context) {
	var in stockIn
	ifv, ok := s.bindIfMatch(c, &in)
	if !ok {
		return
	}
	if in.Stock == nil || *in.Stock < 0 || *in.Stock > engine.MaxStock {
		s.fail(c, engine.InvalidField("api.patchStock", "stock", "is required, from 0 to "+strconv.Itoa(engine.MaxStock)))
		return
	}
	me := caller(c)
	_, after, err := s.store.UpdateProduct(c.Request.Context(), c.Param("id"), ifv, func(p *engine.Product) error {
		if p.OrgID != me.ID {
			return engine.Errorf(engine.KindNotFound, "api.patchStock", "no product %q", clipID(p.ID))
		}
		p.Stock = *in.Stock
		return nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	setETag(c, after.Version)
	c.JSON(http.StatusOK, s.productOut(after))
}

type reviewIn struct {
	ReviewStatus string `json:"review_status"`
	Note         string `json:"note"`
}

func (s *Server) patchReview(c *gin.Context) {
	var in reviewIn
	ifv, ok := s.bindIfMatch(c, &in)
	if !ok {
		return
	}
	st := engine.ReviewStatus(in.ReviewStatus)
	if !st.Valid() || utf8.RuneCountInString(in.Note) > 500 {
		s.fail(c, engine.InvalidField("api.patchReview", "review_status", "must be pending, approved or rejected"))
		return
	}
	ctx := c.Request.Context()
	before, after, err := s.store.UpdateProduct(ctx, c.Param("id"), ifv, func(p *engine.Product) error {
		p.ReviewStatus = st
		return nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.AddAudit(ctx, store.AuditEntry{OrgID: after.OrgID, Actor: caller(c).ID, Action: "product.review", Target: after.ID,
		Before: map[string]any{"review_status": string(before.ReviewStatus)},
		After:  map[string]any{"review_status": string(after.ReviewStatus), "note": in.Note}}); err != nil {
		s.log.Error("audit write failed", "product", after.ID, "err", err)
	}
	setETag(c, after.Version)
	c.JSON(http.StatusOK, s.productOut(after))
}

// --- bulk ---

// BulkLineError names the fields of one rejected NDJSON line (from 1).
type BulkLineError struct {
	Line   int            `json:"line"`
	SKU    string         `json:"sku,omitempty"`
	Errors []problemField `json:"errors"`
}

// BulkResult is the outcome of a bulk import.
type BulkResult struct {
	Accepted int             `json:"accepted"`
	Rejected int             `json:"rejected"`
	Errors   []BulkLineError `json:"errors"`
}

// maxBulkLine bounds one NDJSON line.
const maxBulkLine = 1 << 20

// bulkChunk is how many products go to the database in one bulk write.
const bulkChunk = 500

func (s *Server) bulkProducts(c *gin.Context) {
	res, err := s.ImportNDJSON(c, http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBulkBytes), caller(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// ImportNDJSON is the bulk endpoint's work on an already-limited body.
func (s *Server) ImportNDJSON(c *gin.Context, r io.Reader, owner *engine.Org) (BulkResult, error) {
	return ImportProducts(c.Request.Context(), ImportConfig{Store: s.store, Regions: s.regions, ReviewRequired: s.cfg.ReviewRequired}, r, owner, nil)
}

func lineErr(line int, sku string, err error) BulkLineError {
	le := BulkLineError{Line: line, SKU: sku}
	var e *engine.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		for _, f := range e.Fields {
			le.Errors = append(le.Errors, problemField{Field: f.Field, Message: f.Message})
		}
	} else if errors.As(err, &e) {
		le.Errors = []problemField{{Field: "line", Message: e.Msg}}
	} else {
		le.Errors = []problemField{{Field: "line", Message: "could not be stored"}}
	}
	return le
}

// --- search ---

type searchOut struct {
	Items      []searchItemOut           `json:"items"`
	NextCursor string                    `json:"next_cursor"`
	Total      uint64                    `json:"total"`
	Facets     map[string]map[string]int `json:"facets"`
}

// searchItemOut is a product as search returns it: with the highlights of
// the fields that matched the query (none without q).
type searchItemOut struct {
	productOut
	Highlights map[string]string `json:"highlights,omitempty"`
}

func (s *Server) searchProducts(c *gin.Context) {
	q, err := s.parseSearch(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx, release, err := s.query(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	defer release() // also after a panic, which the recoverer answers
	page, err := s.index.Search(ctx, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := searchOut{Items: make([]searchItemOut, 0, len(page.Hits)), Total: page.Total, Facets: map[string]map[string]int{}}
	for _, h := range page.Hits {
		out.Items = append(out.Items, searchItemOut{productOut: s.productOut(h.Product), Highlights: h.Highlights})
	}
	for _, name := range []string{engine.FacetCategory, engine.FacetCertification, engine.FacetProvince, engine.FacetPovertyRelief} {
		m := map[string]int{}
		for _, fc := range page.Facets[name] {
			m[fc.Value] = fc.Count
		}
		out.Facets[name] = m
	}
	if next := q.Offset + len(page.Hits); len(page.Hits) > 0 && uint64(next) < page.Total && next <= maxOffset {
		out.NextCursor = encodeCursor(next)
	}
	c.JSON(http.StatusOK, out)
}

// maxOffset bounds deep paging.
const maxOffset = 10000

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(offset)))
}

func decodeCursor(s string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	v, ok := bytes.CutPrefix(b, []byte("o:"))
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(v))
	return n, err == nil && n >= 0 && n <= maxOffset
}

// parseSearch reads and validates the query parameters of a product search.
func (s *Server) parseSearch(c *gin.Context) (engine.ProductQuery, error) {
	var p engine.Problems
	me := caller(c)
	q := engine.ProductQuery{OnlyVisible: me.Kind != engine.OrgAdmin}
	q.Q = strings.TrimSpace(c.Query("q"))
	if !utf8.ValidString(q.Q) || strings.ContainsRune(q.Q, 0) {
		p.Add("q", "must be valid UTF-8 text")
	} else if utf8.RuneCountInString(q.Q) > 200 {
		p.Add("q", "at most 200 characters")
	}
	if v := c.Query("category"); v != "" {
		if _, ok := engine.CategoryByCode(v); !ok {
			p.Add("category", "unknown category (see /v1/meta/categories)")
		}
		q.Category = v
	}
	if v := c.Query("certification"); v != "" {
		if _, ok := engine.CertTypeByCode(v); !ok {
			p.Add("certification", "unknown certification type (see /v1/meta/certifications)")
		}
		q.Certification = v
	}
	if v := c.Query("province"); v != "" {
		r, ok := s.regions.Region(v)
		if !ok || r.Level != engine.LevelProvince {
			p.Add("province", "must be a six-digit province code such as 360000")
		}
		q.Province = r.Code
	}
	q.PovertyRelief = boolParam(c, "poverty_relief", &p)
	q.InStock = boolParam(c, "in_stock", &p)
	q.PriceMin = floatParam(c, "price_min", &p)
	q.PriceMax = floatParam(c, "price_max", &p)
	if q.PriceMin != nil && q.PriceMax != nil && *q.PriceMin > *q.PriceMax {
		p.Add("price_min", "must not be above price_max")
	}
	q.CommissionMin = rateParam(c, "commission_min", &p)
	if v := c.Query("org_id"); v != "" {
		q.OrgID = v
		if v == me.ID {
			q.OnlyVisible = false
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			p.Add("limit", "must be a whole number from 1 to 100")
		}
		q.Limit = min(max(n, 1), 100)
	} else {
		q.Limit = 20
	}
	if v := c.Query("cursor"); v != "" {
		off, ok := decodeCursor(v)
		if !ok {
			p.Add("cursor", "is not a cursor from this API")
		}
		q.Offset = off
	}
	return q, p.Err("api.parseSearch")
}

func boolParam(c *gin.Context, name string, p *engine.Problems) *bool {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.Add(name, "must be true or false")
		return nil
	}
	return &b
}

// rateParam reads an optional rate from 0 to 1 (a commission rate).
func rateParam(c *gin.Context, name string, p *engine.Problems) *float64 {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= 0 && f <= 1) {
		p.Add(name, "must be a number from 0 to 1")
		return nil
	}
	return &f
}

func floatParam(c *gin.Context, name string, p *engine.Problems) *float64 {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > engine.MaxPriceCNY || f != f {
		p.Add(name, "must be a price from 0 to %d", engine.MaxPriceCNY)
		return nil
	}
	return &f
}
