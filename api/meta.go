package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/livematch/livematch/engine"
)

type termOut struct {
	Code         string `json:"code"`
	NameZh       string `json:"name_zh"`
	NameEn       string `json:"name_en"`
	Fresh        *bool  `json:"fresh,omitempty"`
	SanPinYiBiao *bool  `json:"sanpin_yibiao,omitempty"`
}

func (s *Server) metaCategories(c *gin.Context) {
	var items []termOut
	for _, cat := range engine.Categories() {
		fresh := cat.Fresh
		items = append(items, termOut{Code: cat.Code, NameZh: cat.NameZh, NameEn: cat.NameEn, Fresh: &fresh})
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (s *Server) metaCertifications(c *gin.Context) {
	var items []termOut
	for _, ct := range engine.CertTypes() {
		spyb := ct.SanPinYiBiao
		items = append(items, termOut{Code: ct.Code, NameZh: ct.NameZh, NameEn: ct.NameEn, SanPinYiBiao: &spyb})
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.JSON(http.StatusOK, gin.H{"items": items})
}

type regionOut struct {
	Code          string `json:"code"`
	NameZh        string `json:"name_zh"`
	NameEn        string `json:"name_en"`
	Level         string `json:"level"`
	Province      string `json:"province,omitempty"`
	City          string `json:"city,omitempty"`
	PovertyRelief bool   `json:"poverty_relief"`
}

func (s *Server) metaRegions(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	if !utf8.ValidString(q) || utf8.RuneCountInString(q) > 50 {
		s.fail(c, engine.InvalidField("api.metaRegions", "q", "at most 50 characters of valid UTF-8"))
		return
	}
	limit, err := limitParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := []regionOut{}
	for _, r := range s.regions.Search(q, limit) {
		items = append(items, regionOut{Code: r.Code, NameZh: r.NameZh, NameEn: r.NameEn, Level: string(r.Level),
			Province: r.ProvinceCode, City: r.CityCode, PovertyRelief: r.PovertyRelief})
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}
