package engine

import (
	"fmt"
	"strings"
	"time"
)

// SampleStatus is where a sample request stands.
type SampleStatus string

// Sample request states: requested → accepted → shipped → received, or
// requested → declined.
const (
	SampleRequested SampleStatus = "requested"
	SampleAccepted  SampleStatus = "accepted"
	SampleDeclined  SampleStatus = "declined"
	SampleShipped   SampleStatus = "shipped"
	SampleReceived  SampleStatus = "received"
)

// SampleStatuses returns every sample request state.
func SampleStatuses() []SampleStatus {
	return []SampleStatus{SampleRequested, SampleAccepted, SampleDeclined, SampleShipped, SampleReceived}
}

// Valid reports whether s is a known state.
func (s SampleStatus) Valid() bool {
	for _, v := range SampleStatuses() {
		if v == s {
			return true
		}
	}
	return false
}

// SampleAction is a transition of a sample request.
type SampleAction string

// Sample request actions.
const (
	SampleAccept  SampleAction = "accept"  // supplier: requested → accepted
	SampleDecline SampleAction = "decline" // supplier: requested → declined (reason required)
	SampleShip    SampleAction = "ship"    // supplier: accepted → shipped (tracking_no required)
	SampleReceive SampleAction = "receive" // mcn: shipped → received
)

// SampleRequest is an MCN's request for a sample of a product, for a host.
type SampleRequest struct {
	ID        string
	ProductID string
	// The product's sku and titles when the request was made, for lists.
	ProductSKU     string
	ProductTitleZh string
	ProductTitleEn string
	SupplierOrgID  string
	MCNOrgID       string
	HostID         string // optional
	ShipToRegion   string // six-digit region code
	Note           string
	Status         SampleStatus
	DeclineReason  string
	TrackingNo     string

	Version    int64
	Seq        int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	AcceptedAt time.Time
	DeclinedAt time.Time
	ShippedAt  time.Time
	ReceivedAt time.Time
}

// PrepareSampleRequest validates and normalises a new sample request and
// makes it requested. sampleAvailable is the product's sample_available;
// without it the request answers KindConflict naming product_id (nothing
// else is checked then). regions resolves ship_to_region to its current
// code (nil: only six digits are checked).
//
// Otherwise it returns an *Error of KindInvalid naming every bad field:
// product_id (required), ship_to_region (a six-digit region code), host_id
// (at most 200 characters), note (at most 2000 characters).
func PrepareSampleRequest(s *SampleRequest, sampleAvailable bool, regions RegionBook) error {
	const op = "engine.PrepareSampleRequest"
	var pr Problems
	s.ProductID = strings.TrimSpace(s.ProductID)
	if s.ProductID == "" {
		pr.Add("product_id", "is required")
	}
	checkText(&pr, "product_id", s.ProductID, 0, MaxDealIDLen)
	s.ShipToRegion = strings.TrimSpace(s.ShipToRegion)
	if regions != nil {
		if r, ok := regions.Region(s.ShipToRegion); ok {
			s.ShipToRegion = r.Code
		} else {
			pr.Add("ship_to_region", "must be a six-digit GB/T 2260 region code (see /v1/meta/regions)")
		}
	} else if len(s.ShipToRegion) != 6 || strings.Trim(s.ShipToRegion, "0123456789") != "" {
		pr.Add("ship_to_region", "must be a six-digit GB/T 2260 region code (see /v1/meta/regions)")
	}
	s.HostID = strings.TrimSpace(s.HostID)
	checkText(&pr, "host_id", s.HostID, 0, MaxDealIDLen)
	s.Note = strings.TrimSpace(s.Note)
	checkText(&pr, "note", s.Note, 0, MaxDealNoteLen)
	if err := pr.Err(op); err != nil {
		return err
	}
	if !sampleAvailable {
		return &Error{Kind: KindConflict, Op: op, Msg: "the product does not offer samples",
			Fields: []FieldError{{Field: "product_id", Message: "the product does not offer samples (sample_available is false)"}}}
	}
	s.Status, s.DeclineReason, s.TrackingNo = SampleRequested, "", ""
	return nil
}

// SampleChange is one action on a sample request: Reason for decline,
// TrackingNo for ship.
type SampleChange struct {
	Action     SampleAction
	By         Party
	Reason     string
	TrackingNo string
}

type sampleRule struct {
	by   Party
	from SampleStatus
	to   SampleStatus
}

func sampleRuleOf(a SampleAction) (sampleRule, bool) {
	switch a {
	case SampleAccept:
		return sampleRule{PartySupplier, SampleRequested, SampleAccepted}, true
	case SampleDecline:
		return sampleRule{PartySupplier, SampleRequested, SampleDeclined}, true
	case SampleShip:
		return sampleRule{PartySupplier, SampleAccepted, SampleShipped}, true
	case SampleReceive:
		return sampleRule{PartyMCN, SampleShipped, SampleReceived}, true
	}
	return sampleRule{}, false
}

// MaySample reports whether party by may ever take action a.
func MaySample(a SampleAction, by Party) bool {
	rule, ok := sampleRuleOf(a)
	return ok && rule.by == by
}

// ApplySample applies a change to a sample request at now and returns the
// new state; s is not modified. Errors, in this order: KindInvalid naming
// action for an unknown action; KindForbidden when the party may never
// take it; KindConflict naming the current state when it is not allowed
// from there; KindInvalid naming reason (decline: required, at most 500
// characters) or tracking_no (ship: required, at most 100 characters).
func ApplySample(s SampleRequest, c SampleChange, now time.Time) (SampleRequest, error) {
	const op = "engine.ApplySample"
	rule, ok := sampleRuleOf(c.Action)
	if !ok {
		return s, InvalidField(op, "action", fmt.Sprintf("unknown action %q", clip(string(c.Action))))
	}
	if rule.by != c.By {
		return s, Errorf(KindForbidden, op, "the %s may not %s a sample request", partyName(c.By), c.Action)
	}
	if s.Status != rule.from {
		return s, stateConflict(op, string(s.Status), fmt.Sprintf("the sample request is %s; it must be %s to %s", s.Status, rule.from, c.Action))
	}
	next := s
	next.Status = rule.to
	var pr Problems
	switch c.Action {
	case SampleAccept:
		next.AcceptedAt = now
	case SampleDecline:
		next.DeclineReason = strings.TrimSpace(c.Reason)
		checkText(&pr, "reason", next.DeclineReason, 1, MaxDeclineReason)
		next.DeclinedAt = now
	case SampleShip:
		next.TrackingNo = strings.TrimSpace(c.TrackingNo)
		checkText(&pr, "tracking_no", next.TrackingNo, 1, MaxTrackingNoLen)
		next.ShippedAt = now
	case SampleReceive:
		next.ReceivedAt = now
	}
	if err := pr.Err(op); err != nil {
		return s, err
	}
	return next, nil
}
