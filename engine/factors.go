package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Constants of the factor definitions (see the package documentation).
const (
	priceBandShare  = 0.7 // share of band position in price fit; the rest is the discount
	priceBandSpread = 0.5 // price fit falls from 1 (cheapest) to 1-spread (dearest) across the band
	discountFull    = 0.3 // a live-price discount of 30% earns the full discount part

	commissionFull     = 0.4 // a commission rate of 40% earns 1
	commissionAtFloor  = 0.1 // the least value of a rate that meets a positive floor
	certPreferredShare = 0.7 // weight of preferred certificates when the profile names some
	certSPYBFull       = 2   // two 三品一标 marks earn the full 三品一标 part

	seasonAllYear = 0.8 // no season given (or all twelve months)
	seasonShort   = 0.8 // a run of one or two months
	seasonEdge    = 0.6 // first and last month of a longer run; the centre earns 1

	logisticsNeutral   = 0.7    // no audience regions, no Geo, or no known distance
	logisticsFarKm     = 3000.0 // distance at which the distance score reaches 0
	perishableDays     = 15     // shelf life (days) up to which a product is perishable
	perishablePenalty  = 0.5    // factor for perishable products without cold chain
	gradeAValue        = 1.0
	gradeBValue        = 0.6
	gradeCValue        = 0.3
	leadSlackFullDays  = 14.0 // days of slack before the stream that earn 1
	leadSlackMin       = 0.1  // the least value of a lead time that meets the stream date
	leadNoDateZeroDays = 30.0 // without a stream date, lead time falls to 0 at 30 days
)

// factor computes factor i of candidate c; with explain it also writes the
// reasons (and only then calls fmt).
func (s *scorer) factor(i int, c *Candidate, explain bool) (v float64, zh, en string) {
	switch factorList[i] {
	case FactorText:
		v, zh, en = s.text(c, explain)
	case FactorPrice:
		v, zh, en = s.price(c.Product, explain)
	case FactorCommission:
		v, zh, en = s.commission(c.Product, explain)
	case FactorStock:
		v, zh, en = s.stock(c.Product, explain)
	case FactorPovertyRelief:
		v, zh, en = s.povertyRelief(c.Supplier, explain)
	case FactorCertification:
		v, zh, en = s.certification(c.Product, explain)
	case FactorSeasonality:
		v, zh, en = s.seasonality(c.Product, explain)
	case FactorLogistics:
		v, zh, en = s.logistics(c.Product, explain)
	case FactorGrade:
		v, zh, en = s.grade(c.Supplier, explain)
	case FactorLeadTime:
		v, zh, en = s.leadTime(c.Product, explain)
	}
	return unit(v), zh, en
}

func (s *scorer) text(c *Candidate, explain bool) (float64, string, string) {
	if !s.keywords {
		return 1, "未设关键词：所有商品均符合", "No keywords: every product qualifies"
	}
	t := c.Text
	var v float64
	switch {
	case math.IsInf(t, 1):
		v = 1
	case t > 0 && s.textMax > 0 && !math.IsInf(s.textMax, 0):
		v = min(1, t/s.textMax)
	case t > 0:
		v = t / (t + s.textHalf)
	default:
		t = 0
	}
	if !explain {
		return v, "", ""
	}
	if v == 0 {
		return v, "与关键词无文本匹配", "No keyword matches in the text"
	}
	if s.textMax > 0 {
		if v >= 1 {
			return v, "关键词匹配最佳", "The best keyword match"
		}
		return v, fmt.Sprintf("关键词匹配度为最佳匹配的%s%%", pct(v)),
			fmt.Sprintf("Keyword match %s%% as strong as the best match", pct(v))
	}
	return v, fmt.Sprintf("关键词相关度%s%%（BM25得分%s）", pct(v), num(t)),
		fmt.Sprintf("%s%% keyword relevance (BM25 score %s)", pct(v), num(t))
}

func (s *scorer) price(pr *Product, explain bool) (float64, string, string) {
	price := pr.EffectivePrice()
	band := 1.0
	lo, hi := 0.0, 0.0
	hasLo, hasHi := s.p.PriceMin != nil, s.p.PriceMax != nil
	if hasLo {
		lo = *s.p.PriceMin
	}
	if hasHi {
		hi = *s.p.PriceMax
	}
	switch {
	case hasLo && hasHi && hi > lo:
		band = 1 - priceBandSpread*(price-lo)/(hi-lo)
	case hasHi && !hasLo && hi > 0:
		band = 1 - priceBandSpread*price/hi
	}
	band = unit(band)
	disc := 0.0
	if pr.LivePriceCNY > 0 && pr.PriceCNY > 0 && pr.LivePriceCNY < pr.PriceCNY {
		disc = 1 - pr.LivePriceCNY/pr.PriceCNY
	}
	v := priceBandShare*band + (1-priceBandShare)*min(1, disc/discountFull)
	if !explain {
		return v, "", ""
	}
	var zh, en strings.Builder
	fmt.Fprintf(&zh, "到手价%s元", num(price))
	fmt.Fprintf(&en, "Price ¥%s", num(price))
	if pr.LivePriceCNY > 0 {
		if disc > 0 {
			fmt.Fprintf(&zh, "（日常价%s元，直降%s%%）", num(pr.PriceCNY), pct(disc))
			fmt.Fprintf(&en, " (list ¥%s, %s%% off)", num(pr.PriceCNY), pct(disc))
		} else {
			fmt.Fprintf(&zh, "（日常价%s元，无折扣）", num(pr.PriceCNY))
			fmt.Fprintf(&en, " (list ¥%s, no discount)", num(pr.PriceCNY))
		}
	}
	switch {
	case hasLo && hasHi && hi > lo:
		pos := unit((price - lo) / (hi - lo))
		fmt.Fprintf(&zh, "，处于%s–%s元区间的%s%%位置", num(lo), num(hi), pct(pos))
		fmt.Fprintf(&en, ", at %s%% of the ¥%s–%s band", pct(pos), num(lo), num(hi))
	case hasLo && hasHi:
		fmt.Fprintf(&zh, "，符合%s元定价", num(hi))
		fmt.Fprintf(&en, ", matches the ¥%s price point", num(hi))
	case hasHi && hi > 0:
		fmt.Fprintf(&zh, "，为上限%s元的%s%%", num(hi), pct(price/hi))
		fmt.Fprintf(&en, ", %s%% of the ¥%s cap", pct(price/hi), num(hi))
	case !hasHi:
		zh.WriteString("，未设价格上限")
		en.WriteString(", no price cap")
	}
	return v, zh.String(), en.String()
}

func (s *scorer) commission(pr *Product, explain bool) (float64, string, string) {
	r, f := pr.CommissionRate, s.p.MinCommissionRate
	var v float64
	switch {
	case !(r >= f):
		v = 0
	case !(f > 0):
		v = r / commissionFull
	case f >= commissionFull:
		v = 1
	default:
		v = max(commissionAtFloor, (r-f)/(commissionFull-f))
	}
	if !explain {
		return v, "", ""
	}
	if f > 0 {
		return v, fmt.Sprintf("佣金%s%%（下限%s%%）", pct(r), pct(f)),
			fmt.Sprintf("%s%% commission (floor %s%%)", pct(r), pct(f))
	}
	return v, fmt.Sprintf("佣金%s%%", pct(r)), fmt.Sprintf("%s%% commission", pct(r))
}

func (s *scorer) stock(pr *Product, explain bool) (float64, string, string) {
	exp := s.p.ExpectedUnits
	av := pr.Available()
	var v float64
	switch {
	case exp > 0:
		v = min(1, float64(av)/float64(exp))
	case av > 0:
		v = 1
	}
	if !explain {
		return v, "", ""
	}
	zh, en := fmt.Sprintf("库存%d件", av), fmt.Sprintf("%d in stock", av)
	if pr.Booked > 0 {
		zh = fmt.Sprintf("可订%d件（库存%d件，已预订%d件）", av, pr.Stock, pr.Booked)
		en = fmt.Sprintf("%d available (%d in stock, %d reserved)", av, pr.Stock, pr.Booked)
	}
	switch {
	case exp > 0 && av >= exp:
		return v, fmt.Sprintf("%s，可覆盖预计销量%d件", zh, exp),
			fmt.Sprintf("%s covers the expected %d units", en, exp)
	case exp > 0:
		return v, fmt.Sprintf("%s，仅覆盖预计销量%d件的%s%%", zh, exp, pct(v)),
			fmt.Sprintf("%s covers %s%% of the expected %d units", en, pct(v), exp)
	}
	return v, fmt.Sprintf("%s（未设预计销量）", zh),
		fmt.Sprintf("%s (no expected units given)", en)
}

func (s *scorer) povertyRelief(o *Org, explain bool) (float64, string, string) {
	if o == nil {
		return 0, "供应商未知", "Unknown supplier"
	}
	v := 0.0
	if o.PovertyRelief {
		v = 1
	}
	if !explain {
		return v, "", ""
	}
	reg, known := s.region(o.RegionCode)
	if !o.PovertyRelief {
		return v, fmt.Sprintf("供应商所在地%s不属于脱贫地区", reg.NameZh),
			fmt.Sprintf("The supplier's region, %s, is not a poverty-relief region", reg.NameEn)
	}
	if known && reg.Level == LevelCounty {
		return v, "来自国家级脱贫县" + reg.NameZh, fmt.Sprintf("From %s, a former national poverty county", reg.NameEn)
	}
	return v, "来自帮扶地区" + reg.NameZh, fmt.Sprintf("From %s, a poverty-relief region", reg.NameEn)
}

func (s *scorer) certification(pr *Product, explain bool) (float64, string, string) {
	certs := pr.Certifications
	var valid, spyb, preferred int
	for i, c := range certs {
		if !c.ValidAt(s.asOf) || validBefore(certs[:i], c.Type, s.asOf) {
			continue
		}
		valid++
		if isSanPinYiBiao(c.Type) {
			spyb++
		}
		if contains(s.p.PreferredCerts, c.Type) {
			preferred++
		}
	}
	spybPart := min(1, float64(spyb)/certSPYBFull)
	var v float64
	if n := len(s.p.PreferredCerts); n > 0 {
		v = certPreferredShare*float64(preferred)/float64(n) + (1-certPreferredShare)*spybPart
	} else {
		v = certPreferredShare * spybPart
		if valid > 0 {
			v += 1 - certPreferredShare
		}
	}
	if !explain {
		return v, "", ""
	}
	var zhNames, enNames []string
	var prefZh, prefEn []string
	for i, c := range certs {
		if !c.ValidAt(s.asOf) || validBefore(certs[:i], c.Type, s.asOf) {
			continue
		}
		zh, en := c.Type, c.Type
		if t, ok := CertTypeByCode(c.Type); ok {
			zh, en = t.NameZh, t.NameEn
		}
		zhNames, enNames = append(zhNames, zh), append(enNames, en)
		if contains(s.p.PreferredCerts, c.Type) {
			prefZh, prefEn = append(prefZh, zh), append(prefEn, en)
		}
	}
	if n := len(s.p.PreferredCerts); n > 0 {
		zh := fmt.Sprintf("持有%d/%d项优选认证", preferred, n)
		en := fmt.Sprintf("Holds %d of %d preferred certificates", preferred, n)
		if preferred > 0 {
			zh += "（" + strings.Join(prefZh, "、") + "）"
			en += " (" + strings.Join(prefEn, ", ") + ")"
		}
		return v, zh + fmt.Sprintf("，三品一标%d项", spyb),
			en + fmt.Sprintf("; %d 三品一标 farm-produce mark%s", spyb, plural(spyb))
	}
	if valid == 0 {
		return v, "无有效认证", "No valid certificates"
	}
	return v, fmt.Sprintf("有效认证%d项（%s），其中三品一标%d项", valid, strings.Join(zhNames, "、"), spyb),
		fmt.Sprintf("%d valid certificate%s (%s), %d of them 三品一标 farm-produce marks", valid, plural(valid), strings.Join(enNames, ", "), spyb)
}

// isSanPinYiBiao reports whether typ is one of the four 三品一标 marks.
func isSanPinYiBiao(typ string) bool {
	for i := range certTypes {
		if certTypes[i].Code == typ {
			return certTypes[i].SanPinYiBiao
		}
	}
	return false
}

// validBefore reports whether certs holds a certificate of type typ valid at t
// (used to count each type once).
func validBefore(certs []Certification, typ string, t time.Time) bool {
	for _, c := range certs {
		if c.Type == typ && c.ValidAt(t) {
			return true
		}
	}
	return false
}

func (s *scorer) seasonality(pr *Product, explain bool) (float64, string, string) {
	var set [13]bool
	n := 0
	for _, m := range pr.AvailableMonths {
		if m >= 1 && m <= 12 && !set[m] {
			set[m] = true
			n++
		}
	}
	if n == 0 || n == 12 {
		return seasonAllYear, "全年供应", "Available all year"
	}
	m := s.month
	if !set[m] {
		if !explain {
			return 0, "", ""
		}
		return 0, fmt.Sprintf("%d月不在上市期", m), fmt.Sprintf("%s is out of season", time.Month(m))
	}
	back, fwd := 0, 0
	for back < 11 && set[wrapMonth(m-back-1)] {
		back++
	}
	for fwd < 11 && set[wrapMonth(m+fwd+1)] {
		fwd++
	}
	run := back + fwd + 1
	var v float64
	if run <= 2 {
		v = seasonShort
	} else {
		centre := float64(run-1) / 2
		v = 1 - (1-seasonEdge)*math.Abs(float64(back)-centre)/centre
	}
	if !explain {
		return v, "", ""
	}
	first, last := wrapMonth(m-back), wrapMonth(m+fwd)
	spanZh := fmt.Sprintf("%d月至%d月", first, last)
	if first > last {
		spanZh = fmt.Sprintf("%d月至次年%d月", first, last)
	}
	spanEn := shortMonth(first) + "–" + shortMonth(last)
	var phaseZh, phaseEn string
	switch centre := float64(run-1) / 2; {
	case run <= 2:
		phaseZh, phaseEn = "短季供应", "a short season"
	case math.Abs(float64(back)-centre) <= 0.5:
		phaseZh, phaseEn = "正值盛季", "the height of the season"
	case float64(back) < centre:
		phaseZh, phaseEn = "季节前段", "early in the season"
	default:
		phaseZh, phaseEn = "季节后段", "late in the season"
	}
	return v, fmt.Sprintf("%d月当季（上市期%s），%s", m, spanZh, phaseZh),
		fmt.Sprintf("%s is in season (%s), %s", time.Month(m), spanEn, phaseEn)
}

// wrapMonth maps any integer onto a month 1..12 (0 is December, 13 January).
func wrapMonth(m int) int { return ((m-1)%12+12)%12 + 1 }

func shortMonth(m int) string { return time.Month(m).String()[:3] }

func (s *scorer) logistics(pr *Product, explain bool) (float64, string, string) {
	regions := s.p.AudienceRegions
	v := logisticsNeutral
	known := 0
	var meanKm float64
	if len(regions) > 0 && s.geo != nil {
		if cached, ok := s.distance[pr.ShipFrom]; ok && !explain {
			v, known = cached, 1
		} else {
			sum := 0.0
			for _, r := range regions {
				if km, ok := s.geo.Distance(pr.ShipFrom, r); ok && !math.IsNaN(km) {
					sum += max(0, 1-km/logisticsFarKm)
					meanKm += km
					known++
				}
			}
			if known > 0 {
				v = sum / float64(known)
				meanKm /= float64(known)
			} else {
				v = logisticsNeutral
			}
			if s.distance != nil {
				s.distance[pr.ShipFrom] = v
			}
		}
	}
	perishable := pr.ShelfLifeDays >= 1 && pr.ShelfLifeDays <= perishableDays && !pr.ColdChain
	if perishable {
		v *= perishablePenalty
	}
	if !explain {
		return v, "", ""
	}
	var zh, en string
	switch {
	case len(regions) == 0:
		zh, en = "未指定受众地区，物流按中性计", "No audience regions: logistics scored neutral"
	case s.geo == nil || known == 0:
		zh, en = "距离未知，物流按中性计", "Distance unknown: logistics scored neutral"
	default:
		from := s.province(pr)
		if known == 1 && len(regions) == 1 {
			to, _ := s.region(regions[0])
			zh = fmt.Sprintf("从%s发往%s约%s公里", from.NameZh, to.NameZh, km(meanKm))
			en = fmt.Sprintf("About %s km from %s to %s", km(meanKm), from.NameEn, to.NameEn)
		} else {
			zh = fmt.Sprintf("从%s发往%d个受众地区，平均约%s公里", from.NameZh, known, km(meanKm))
			en = fmt.Sprintf("About %s km on average from %s to %d audience regions", km(meanKm), from.NameEn, known)
		}
	}
	switch {
	case perishable:
		zh += fmt.Sprintf("；保质期%d天且无冷链，得分减半", pr.ShelfLifeDays)
		en += fmt.Sprintf("; a %d-day shelf life without cold chain halves the score", pr.ShelfLifeDays)
	case pr.ColdChain:
		zh += "；冷链配送"
		en += "; ships by cold chain"
	}
	return v, zh, en
}

func (s *scorer) grade(o *Org, explain bool) (float64, string, string) {
	if o == nil {
		return 0, "供应商未知", "Unknown supplier"
	}
	switch o.Grade {
	case GradeA:
		return gradeAValue, "A级供应商", "Grade A supplier"
	case GradeB:
		return gradeBValue, "B级供应商", "Grade B supplier"
	case GradeC:
		return gradeCValue, "C级供应商", "Grade C supplier"
	case "":
		return gradeBValue, "未评级供应商（按B级计）", "Ungraded supplier (counted as grade B)"
	}
	return 0, "供应商等级未知", "Unknown supplier grade"
}

func (s *scorer) leadTime(pr *Product, explain bool) (float64, string, string) {
	lead := max(pr.LeadTimeDays, 0)
	var v, days, slack float64
	stream := !s.p.StreamDate.IsZero()
	if stream {
		days = s.streamDays
		slack = days - float64(lead)
		if slack >= 0 {
			v = max(leadSlackMin, min(1, slack/leadSlackFullDays))
		}
	} else {
		v = max(0, 1-float64(lead)/leadNoDateZeroDays)
	}
	if !explain {
		return v, "", ""
	}
	if !stream {
		return v, fmt.Sprintf("备货期%d天（未设直播日期）", lead),
			fmt.Sprintf("Ships in %d day%s (no stream date)", lead, plural(lead))
	}
	if slack < 0 {
		return v, fmt.Sprintf("备货期%d天，距直播仅%s天，来不及", lead, num1(days)),
			fmt.Sprintf("Ships in %d day%s but the stream is only %s days away", lead, plural(lead), num1(days))
	}
	return v, fmt.Sprintf("备货期%d天，距直播%s天，余量%s天", lead, num1(days), num1(slack)),
		fmt.Sprintf("Ships in %d day%s; %s days to the stream leave %s days' slack", lead, plural(lead), num1(days), num1(slack))
}

// region looks a region up for naming; unknown codes (or no book) name
// themselves.
func (s *scorer) region(code string) (Region, bool) {
	if s.regions != nil {
		if r, ok := s.regions.Region(code); ok {
			return r, true
		}
	}
	return Region{Code: code, NameZh: code, NameEn: code}, false
}

// province returns the province a product ships from, for naming.
func (s *scorer) province(pr *Product) Region {
	code := pr.ProvinceCode
	if code == "" {
		if r, ok := s.region(pr.ShipFrom); ok {
			code = r.ProvinceCode
		} else {
			code = pr.ShipFrom
		}
	}
	r, _ := s.region(code)
	return r
}

// num formats x with at most two decimals.
func num(x float64) string { return strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64) }

// num1 formats x with at most one decimal.
func num1(x float64) string { return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64) }

// pct formats a share as a percentage with at most one decimal.
func pct(x float64) string { return num1(x * 100) }

// km formats a distance, to the nearest 10 km from 100 km on.
func km(x float64) string {
	if x >= 100 {
		x = math.Round(x/10) * 10
	}
	return strconv.FormatFloat(math.Round(x), 'f', -1, 64)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
