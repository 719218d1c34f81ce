package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

func (s *Server) createOrg(c *gin.Context) {
	var in orgIn
	if err := s.bind(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	o := in.toEngine()
	if err := engine.PrepareOrg(o, s.regions); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if err := s.store.CreateOrg(ctx, o); err != nil {
		s.fail(c, err)
		return
	}
	s.orgs.put(o.ID, o)
	key, err := IssueKey(ctx, s.store, o.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	_ = s.store.AddAudit(ctx, store.AuditEntry{OrgID: o.ID, Actor: caller(c).ID, Action: "org.create", Target: o.ID,
		After: map[string]any{"kind": string(o.Kind), "grade": string(o.Grade), "status": string(o.Status)}})
	out := s.orgOut(o)
	out.APIKey = key
	setETag(c, o.Version)
	c.Header("Location", "/v1/orgs/"+o.ID)
	c.JSON(http.StatusCreated, out)
}

// visibleOrg loads an org the caller may see: admins see all, others only
// themselves (another org answers 404, not revealing it exists).
func (s *Server) visibleOrg(c *gin.Context) (*engine.Org, bool) {
	id := c.Param("id")
	me := caller(c)
	if me.Kind != engine.OrgAdmin && me.ID != id {
		s.fail(c, engine.Errorf(engine.KindNotFound, "api.org", "no org %q", clipID(id)))
		return nil, false
	}
	o, err := s.store.GetOrg(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return o, true
}

func (s *Server) getOrg(c *gin.Context) {
	o, ok := s.visibleOrg(c)
	if !ok {
		return
	}
	setETag(c, o.Version)
	c.JSON(http.StatusOK, s.orgOut(o))
}

func (s *Server) listOrgs(c *gin.Context) {
	pg, err := pageParams(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := []orgOut{}
	err = s.store.ScanOrgs(c.Request.Context(), func(o *engine.Org) error {
		items = append(items, s.orgOut(o))
		return nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	items, next := cut(pg, items, func(o orgOut) string { return o.ID })
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": next})
}

func (s *Server) patchOrg(c *gin.Context) {
	var in orgPatchIn
	ifv, ok := s.bindIfMatch(c, &in)
	if !ok {
		return
	}
	var patch engine.OrgPatch
	if in.Grade != nil {
		g := engine.Grade(*in.Grade)
		patch.Grade = &g
	}
	if in.Status != nil {
		st := engine.OrgStatus(*in.Status)
		patch.Status = &st
	}
	ctx := c.Request.Context()
	before, after, err := s.store.UpdateOrg(ctx, c.Param("id"), ifv, func(o *engine.Org) error { return engine.ApplyOrgPatch(o, patch) })
	if err != nil {
		s.fail(c, err)
		return
	}
	s.orgs.put(after.ID, after)
	if err := s.store.AddAudit(ctx, store.AuditEntry{OrgID: after.ID, Actor: caller(c).ID, Action: "org.update", Target: after.ID,
		Before: map[string]any{"grade": string(before.Grade), "status": string(before.Status)},
		After:  map[string]any{"grade": string(after.Grade), "status": string(after.Status)}}); err != nil {
		s.log.Error("audit write failed", "org", after.ID, "err", err)
	}
	setETag(c, after.Version)
	c.JSON(http.StatusOK, s.orgOut(after))
}

func (s *Server) rotateKey(c *gin.Context) {
	o, ok := s.visibleOrg(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	key, err := IssueKey(ctx, s.store, o.ID)
	s.keys.dropOrg(o.ID) // the old key stops working here at once, even if the rotation failed midway
	if err != nil {
		s.fail(c, err)
		return
	}
	_ = s.store.AddAudit(ctx, store.AuditEntry{OrgID: o.ID, Actor: caller(c).ID, Action: "org.key_rotate", Target: o.ID})
	c.JSON(http.StatusCreated, gin.H{"org_id": o.ID, "api_key": key})
}

type auditOut struct {
	At     string         `json:"at"`
	Actor  string         `json:"actor"`
	Action string         `json:"action"`
	Target string         `json:"target"`
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
}

func (s *Server) orgAudit(c *gin.Context) {
	o, ok := s.visibleOrg(c)
	if !ok {
		return
	}
	limit, err := limitParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	entries, err := s.store.Audit(c.Request.Context(), o.ID, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]auditOut, len(entries))
	for i, e := range entries {
		items[i] = auditOut{At: e.At.Format("2006-01-02T15:04:05.000Z07:00"), Actor: e.Actor, Action: e.Action, Target: e.Target, Before: e.Before, After: e.After}
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// --- shared helpers ---

func setETag(c *gin.Context, version int64) {
	c.Header("ETag", `"`+strconv.FormatInt(version, 10)+`"`)
}

// ifMatch returns the version demanded by If-Match (0 when absent).
func ifMatch(c *gin.Context) (int64, error) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	h = strings.TrimPrefix(h, "W/")
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || v < 1 {
		return 0, engine.InvalidField("api.ifMatch", "If-Match", `must be a version ETag such as "3"`)
	}
	return v, nil
}

// limitParam reads ?limit= (default 20, clamped to 1..100).
func limitParam(c *gin.Context) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return 20, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, engine.InvalidField("api.limit", "limit", "must be a whole number from 1 to 100")
	}
	return min(max(n, 1), 100), nil
}

func clipID(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}
