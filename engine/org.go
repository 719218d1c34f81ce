package engine

import (
	"strings"
	"time"
)

// OrgKind is the kind of an organisation; it decides the org's role.
type OrgKind string

// The kinds of organisation.
const (
	OrgAdmin           OrgKind = "admin"
	OrgFactory         OrgKind = "factory"
	OrgCooperative     OrgKind = "cooperative"
	OrgImporter        OrgKind = "importer"
	OrgMCN             OrgKind = "mcn"
	OrgCrossborderFirm OrgKind = "crossborder_firm"
)

// OrgKinds returns every org kind.
func OrgKinds() []OrgKind {
	return []OrgKind{OrgAdmin, OrgFactory, OrgCooperative, OrgImporter, OrgMCN, OrgCrossborderFirm}
}

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool {
	for _, v := range OrgKinds() {
		if v == k {
			return true
		}
	}
	return false
}

// IsSupplier reports whether orgs of this kind list products.
func (k OrgKind) IsSupplier() bool {
	return k == OrgFactory || k == OrgCooperative || k == OrgImporter
}

// Grade is the platform's graded-management mark of a supplier (分级管理).
type Grade string

// Grades, best first.
const (
	GradeA Grade = "A"
	GradeB Grade = "B"
	GradeC Grade = "C"
)

// Valid reports whether g is a known grade.
func (g Grade) Valid() bool { return g == GradeA || g == GradeB || g == GradeC }

// OrgStatus is an org's admission status (商家准入).
type OrgStatus string

// Admission statuses.
const (
	OrgPending   OrgStatus = "pending"
	OrgApproved  OrgStatus = "approved"
	OrgSuspended OrgStatus = "suspended"
)

// Valid reports whether s is a known status.
func (s OrgStatus) Valid() bool { return s == OrgPending || s == OrgApproved || s == OrgSuspended }

// RegionLevel is the level of an administrative division.
type RegionLevel string

// Levels of administrative divisions.
const (
	LevelProvince RegionLevel = "province"
	LevelCity     RegionLevel = "city"
	LevelCounty   RegionLevel = "county"
)

// Region is a Chinese administrative division (GB/T 2260) with names in both
// languages. Codes are six digits; ProvinceCode and CityCode are the six-digit
// codes of the enclosing divisions (empty where there is none).
type Region struct {
	Code         string
	NameZh       string
	NameEn       string
	Level        RegionLevel
	ProvinceCode string
	CityCode     string
	// PovertyRelief is true for the 832 former national poverty counties and
	// for paired-assistance regions the operator configured.
	PovertyRelief bool
}

// RegionBook resolves region codes. Old codes that were renamed resolve to
// their successors (the returned Region carries the new code).
type RegionBook interface {
	// Region returns the division with the given six-digit code, or false.
	Region(code string) (Region, bool)
}

// Org is an organisation on the platform: a supplier, an MCN, a cross-border
// firm or the operator itself.
type Org struct {
	ID         string
	Kind       OrgKind
	NameZh     string
	NameEn     string
	RegionCode string
	Countries  []string
	Grade      Grade
	Status     OrgStatus

	// Derived from RegionCode through a RegionBook; never taken from input.
	ProvinceCode  string
	PovertyRelief bool

	Version   int64
	Seq       int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OrgPatch holds the admin-changeable fields of an org; nil means unchanged.
type OrgPatch struct {
	Grade  *Grade
	Status *OrgStatus
}

// PrepareOrg validates a new org, fills defaults (grade B, status approved)
// and derives ProvinceCode and PovertyRelief from RegionCode. It returns an
// *Error of KindInvalid naming every bad field.
func PrepareOrg(o *Org, regions RegionBook) error {
	const op = "engine.PrepareOrg"
	var p Problems
	if !o.Kind.Valid() {
		p.Add("kind", "must be one of admin, factory, cooperative, importer, mcn, crossborder_firm")
	}
	checkText(&p, "name_zh", o.NameZh, 0, 200)
	checkText(&p, "name_en", o.NameEn, 0, 200)
	if strings.TrimSpace(o.NameZh) == "" && strings.TrimSpace(o.NameEn) == "" {
		p.Add("name_zh", "name_zh or name_en is required")
	}
	if o.Grade == "" {
		o.Grade = GradeB
	} else if !o.Grade.Valid() {
		p.Add("grade", "must be A, B or C")
	}
	if o.Status == "" {
		o.Status = OrgApproved
	} else if !o.Status.Valid() {
		p.Add("status", "must be pending, approved or suspended")
	}
	for i, c := range o.Countries {
		c = strings.ToUpper(strings.TrimSpace(c))
		o.Countries[i] = c
		if !ValidCountry(c) {
			p.Add(indexed("countries", i), "must be an ISO 3166-1 alpha-2 code such as CN or MY")
		}
	}
	if len(o.Countries) > 50 {
		p.Add("countries", "at most 50 countries")
	}
	if r, ok := regions.Region(o.RegionCode); ok {
		o.RegionCode = r.Code
		o.ProvinceCode = r.ProvinceCode
		o.PovertyRelief = r.PovertyRelief
	} else {
		p.Add("region_code", "must be a six-digit GB/T 2260 region code (see /v1/meta/regions)")
	}
	return p.Err(op)
}

// ApplyOrgPatch validates and applies an admin patch to o.
func ApplyOrgPatch(o *Org, patch OrgPatch) error {
	var p Problems
	if patch.Grade != nil && !patch.Grade.Valid() {
		p.Add("grade", "must be A, B or C")
	}
	if patch.Status != nil && !patch.Status.Valid() {
		p.Add("status", "must be pending, approved or suspended")
	}
	if err := p.Err("engine.ApplyOrgPatch"); err != nil {
		return err
	}
	if patch.Grade != nil {
		o.Grade = *patch.Grade
	}
	if patch.Status != nil {
		o.Status = *patch.Status
	}
	return nil
}
