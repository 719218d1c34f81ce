package indexer

import (
	"hash/fnv"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/livematch/livematch/engine"
)

// catalog is the index's in-memory view of the live products, by document
// number (docnum): in columns, exactly the attributes that the matching
// gates, factors and search filters read, the postings of the text that
// matching and search score (titles and tags, with term frequencies) and,
// for search only, which products' descriptions hold each token (compressed
// bitmaps, no frequencies: descriptions hold several times more tokens than
// titles and tags). Full products (description text, numbers of
// certificates, …) stay in Bleve's stored records and are read only for the
// few items a page or a match returns. A product keeps its docnum while its text is
// unchanged (a stock or price update is written in place); a product whose
// text changes gets a new docnum and its old slot dies; compact renumbers
// when dead slots pile up. The Index's mu guards it.
type catalog struct {
	ids   []string // docnum → product id; "" for a dead slot
	seqs  []int64  // docnum → change-feed seq of the product's last write
	rows  []row
	certs []certCol // rows[d].CertOff… hold d's certificates
	byID  map[string]uint32
	alive []uint64   // bit d: docnum d is live
	byCat [][]uint32 // category index → its docnums, ascending (dead ones too)
	// catLive and catApproved count the live and the live approved
	// products by category index (noCategory included).
	catLive, catApproved [256]int

	orgs   interner // OrgID
	places interner // ShipFrom and ProvinceCode

	post     map[string]*postings
	desc     map[string]*roaring.Bitmap // token → docnums whose description holds it
	docLen   []float32                  // boosted length of the text (0 for a dead slot)
	textHash []uint64                   // of the analysed text fields, to tell text changes
	lenSum   float64                    // over live docs
	dead     int
}

// row is one product's matching attributes.
type row struct {
	Price, Live, Commission float64
	Stock                   int32 // available units (stock − booked ≤ engine.MaxStock): what in_stock and the gate read
	Booked                  int32
	Org, Ship, Prov         uint32
	CertOff                 uint32
	Lead, Shelf             int16  // days (validated: at most 365 and 3650)
	Months                  uint16 // bit m-1: available in month m; 0: all year
	CertTypes               uint16 // bit t: holds a certificate of type t
	CertsUntil              uint16 // see allInForce
	CertN                   uint8
	Cat                     uint8 // index in engine.Categories(); noCategory if unknown
	Approved, ColdChain     bool
	Poverty                 bool // the supplier's derived poverty-relief status
}

// dayNanos is a day in nanoseconds.
const dayNanos = int64(24 * time.Hour)

// allInForce reports whether every certificate of the row is in force at
// now (Unix nanoseconds), so that CertTypes alone says which are: true
// before the UTC day (counted from 1970) of the earliest expiry, CertsUntil.
// False says nothing; the certificates themselves must be read then.
func (r *row) allInForce(now int64) bool { return now < int64(r.CertsUntil)*dayNanos }

// hasCert reports whether row r holds a certificate of type t in force at
// now (Unix nanoseconds): from the row alone unless one of its certificates
// expires near now.
func (c *catalog) hasCert(r *row, t uint8, now int64) bool {
	if t < 16 {
		if r.CertTypes&(1<<t) == 0 {
			return false
		}
		if r.allInForce(now) {
			return true
		}
	}
	for _, ct := range c.certs[r.CertOff : r.CertOff+uint32(r.CertN)] {
		if ct.Typ == t && (ct.Exp == 0 || ct.Exp > now) {
			return true
		}
	}
	return false
}

// certCol is one certificate: its type (index in engine.CertTypes()) and
// expiry in Unix nanoseconds (0: never expires).
type certCol struct {
	Typ uint8
	Exp int64
}

// postings lists the docnums whose text holds a token, ascending, with the
// token's boosted frequency in each.
type postings struct {
	Docs []uint32
	TF   []uint8
}

// interner maps strings to small integers and back.
type interner struct {
	byStr map[string]uint32
	strs  []string
}

func (in *interner) id(s string) uint32 {
	if i, ok := in.byStr[s]; ok {
		return i
	}
	if in.byStr == nil {
		in.byStr = map[string]uint32{}
	}
	i := uint32(len(in.strs))
	in.byStr[s] = i
	in.strs = append(in.strs, s)
	return i
}

const noCategory = math.MaxUint8

// Text fields that matching scores, with the weight of one occurrence
// (titles 3, tags 2, as in Bleve's field boosts; descriptions are searched
// but not matched: their boilerplate would blur relevance).
const (
	tfTitle = 3
	tfTag   = 2
)

// BM25 parameters of the matching text relevance.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// vocab holds the fixed vocabularies as indexes.
type vocab struct {
	cats     []string
	catIdx   map[string]uint8
	certs    []string
	certIdx  map[string]uint8
	analyzer analysis.Analyzer
	simplify func(string) string
}

func newVocab(a analysis.Analyzer, simplify func(string) string) *vocab {
	v := &vocab{catIdx: map[string]uint8{}, certIdx: map[string]uint8{}, analyzer: a, simplify: simplify}
	for i, c := range engine.Categories() {
		v.cats = append(v.cats, c.Code)
		v.catIdx[c.Code] = uint8(i)
	}
	for i, c := range engine.CertTypes() {
		v.certs = append(v.certs, c.Code)
		v.certIdx[c.Code] = uint8(i)
	}
	return v
}

// category returns the index of category code, or noCategory.
func (v *vocab) category(code string) uint8 {
	if i, ok := v.catIdx[code]; ok {
		return i
	}
	return noCategory
}

// docText is a product's analysed text.
type docText struct {
	tokens []string // of titles and tags
	tf     []uint8
	length float32
	desc   []string // distinct tokens of the descriptions
	hash   uint64
}

// analyse tokenises the product's titles and tags (simplified as Bleve's
// copy is) into boosted term frequencies, and its descriptions into
// distinct tokens.
func (v *vocab) analyse(p *engine.Product) docText {
	return v.analyseWith(p, func(text string) analysis.TokenStream { return v.analyzer.Analyze([]byte(text)) })
}

// analyseWith is analyse with the token streams of the simplified texts
// from tokens (which must analyse as v.analyzer does).
func (v *vocab) analyseWith(p *engine.Product, tokens func(text string) analysis.TokenStream) docText {
	counts := map[string]int{}
	var order []string
	length := 0
	h := fnv.New64a()
	add := func(text string, w int) {
		text = v.simplify(text)
		_, _ = h.Write([]byte(text))
		_, _ = h.Write([]byte{0, byte(w)})
		for _, t := range tokens(text) {
			tok := string(t.Term)
			if _, ok := counts[tok]; !ok {
				order = append(order, tok)
			}
			counts[tok] += w
			length += w
		}
	}
	add(p.TitleZh, tfTitle)
	add(p.TitleEn, tfTitle)
	for _, t := range p.Tags {
		add(t, tfTag)
	}
	seen := map[string]bool{}
	var desc []string
	for _, text := range [...]string{p.DescriptionZh, p.DescriptionEn} {
		text = v.simplify(text)
		_, _ = h.Write([]byte(text))
		_, _ = h.Write([]byte{0, 1})
		for _, t := range tokens(text) {
			if tok := string(t.Term); !seen[tok] {
				seen[tok] = true
				desc = append(desc, tok)
			}
		}
	}
	d := docText{tokens: order, tf: make([]uint8, len(order)), length: float32(length), desc: desc, hash: h.Sum64()}
	for i, tok := range order {
		d.tf[i] = uint8(min(counts[tok], math.MaxUint8))
	}
	return d
}

// rowOf builds p's attributes; certificates go to c.certs.
func (c *catalog) rowOf(v *vocab, p *engine.Product) row {
	r := row{Cat: v.category(p.Category), Price: p.PriceCNY, Live: p.LivePriceCNY, Commission: p.CommissionRate, Stock: int32(p.Available()), Booked: int32(p.Booked),
		Org: c.orgs.id(p.OrgID), Ship: c.places.id(p.ShipFrom), Prov: c.places.id(p.ProvinceCode),
		Lead: int16(min(max(p.LeadTimeDays, math.MinInt16), math.MaxInt16)), Shelf: int16(min(max(p.ShelfLifeDays, math.MinInt16), math.MaxInt16)),
		Approved: p.ReviewStatus == engine.ReviewApproved, ColdChain: p.ColdChain, Poverty: p.PovertyRelief}
	for _, m := range p.AvailableMonths {
		if m >= 1 && m <= 12 {
			r.Months |= 1 << (m - 1)
		}
	}
	r.CertOff = uint32(len(c.certs))
	until := int64(math.MaxUint16)
	for _, ct := range p.Certifications {
		i, ok := v.certIdx[ct.Type]
		if !ok || r.CertN == math.MaxUint8 {
			continue
		}
		var exp int64
		if !ct.ExpiresAt.IsZero() {
			exp = ct.ExpiresAt.UnixNano()
			until = min(until, max(exp, 0)/dayNanos) // the day starts at or before exp
		}
		c.certs = append(c.certs, certCol{Typ: i, Exp: exp})
		r.CertN++
		if i < 16 {
			r.CertTypes |= 1 << i
		} else {
			until = 0 // not in the mask: always read the certificates
		}
	}
	r.CertsUntil = uint16(until)
	return r
}

// put adds or replaces product p (its ID set) written at seq.
func (c *catalog) put(v *vocab, p *engine.Product, seq int64, text docText) {
	if c.byID == nil {
		c.byID = map[string]uint32{}
		c.post = map[string]*postings{}
	}
	if c.desc == nil {
		c.desc = map[string]*roaring.Bitmap{}
	}
	cat := v.category(p.Category)
	if d, ok := c.byID[p.ID]; ok {
		if c.textHash[d] == text.hash && c.rows[d].Cat == cat { // same text and category: in place
			prev, end := c.rows[d], len(c.certs)
			r := c.rowOf(v, p)
			if r.CertN <= prev.CertN { // reuse the certificates' old slot
				copy(c.certs[prev.CertOff:], c.certs[end:])
				c.certs = c.certs[:end]
				r.CertOff = prev.CertOff
			}
			c.count(prev, -1)
			c.count(r, 1)
			c.rows[d], c.seqs[d] = r, seq
			return
		}
		c.kill(d)
	}
	d := uint32(len(c.ids))
	c.ids = append(c.ids, p.ID)
	c.setAlive(d)
	c.listCat(cat, d)
	c.seqs = append(c.seqs, seq)
	c.rows = append(c.rows, c.rowOf(v, p))
	c.count(c.rows[d], 1)
	c.docLen = append(c.docLen, text.length)
	c.textHash = append(c.textHash, text.hash)
	c.lenSum += float64(text.length)
	c.byID[p.ID] = d
	for i, tok := range text.tokens {
		pl := c.post[tok]
		if pl == nil {
			pl = &postings{}
			c.post[tok] = pl
		}
		pl.Docs = append(pl.Docs, d)
		pl.TF = append(pl.TF, text.tf[i])
	}
	for _, tok := range text.desc {
		bm := c.desc[tok]
		if bm == nil {
			bm = roaring.New()
			c.desc[tok] = bm
		}
		bm.Add(d)
	}
}

// remove drops product id.
func (c *catalog) remove(id string) {
	if d, ok := c.byID[id]; ok {
		c.kill(d)
	}
}

func (c *catalog) kill(d uint32) {
	delete(c.byID, c.ids[d])
	c.alive[d/64] &^= 1 << (d % 64)
	c.count(c.rows[d], -1)
	c.ids[d] = ""
	c.lenSum -= float64(c.docLen[d])
	c.docLen[d] = 0
	c.dead++
}

// count adds n to the category counters of a product with row r.
func (c *catalog) count(r row, n int) {
	c.catLive[r.Cat] += n
	if r.Approved {
		c.catApproved[r.Cat] += n
	}
}

// isLive reports whether docnum d is a live product.
func (c *catalog) isLive(d uint32) bool { return c.alive[d/64]&(1<<(d%64)) != 0 }

func (c *catalog) setAlive(d uint32) {
	for int(d/64) >= len(c.alive) {
		c.alive = append(c.alive, 0)
	}
	c.alive[d/64] |= 1 << (d % 64)
}

// listCat appends docnum d to category cat's list.
func (c *catalog) listCat(cat uint8, d uint32) {
	if cat == noCategory {
		return
	}
	for int(cat) >= len(c.byCat) {
		c.byCat = append(c.byCat, nil)
	}
	c.byCat[cat] = append(c.byCat[cat], d)
}

// index rebuilds the liveness bits and category lists from ids and rows
// (after a compaction or a snapshot load).
func (c *catalog) index() {
	c.alive, c.byCat = make([]uint64, (len(c.ids)+63)/64), nil
	c.catLive, c.catApproved = [256]int{}, [256]int{}
	for d, id := range c.ids {
		if id != "" {
			c.setAlive(uint32(d))
			c.listCat(c.rows[d].Cat, uint32(d))
			c.count(c.rows[d], 1)
		}
	}
}

// live returns the number of live products.
func (c *catalog) live() int { return len(c.byID) }

// needsCompaction reports whether dead slots are a quarter of all slots.
func (c *catalog) needsCompaction() bool {
	return c.dead > 1024 && c.dead*4 > len(c.ids)
}

// compact renumbers the live products densely, dropping dead slots from the
// columns and the postings.
func (c *catalog) compact() {
	remap := make([]uint32, len(c.ids))
	n := uint32(0)
	for d, id := range c.ids {
		if id == "" {
			remap[d] = math.MaxUint32
			continue
		}
		remap[d] = n
		c.ids[n], c.seqs[n], c.docLen[n], c.textHash[n] = id, c.seqs[d], c.docLen[d], c.textHash[d]
		r := c.rows[d]
		c.rows[n] = r
		c.byID[id] = n
		n++
	}
	c.ids, c.seqs, c.rows = c.ids[:n:n], c.seqs[:n:n], c.rows[:n:n]
	c.docLen, c.textHash = c.docLen[:n:n], c.textHash[:n:n]
	certs := make([]certCol, 0, len(c.certs))
	for i := range c.rows {
		r := &c.rows[i]
		off := uint32(len(certs))
		certs = append(certs, c.certs[r.CertOff:r.CertOff+uint32(r.CertN)]...)
		r.CertOff = off
	}
	c.certs = certs
	for tok, pl := range c.post {
		k := 0
		for i, d := range pl.Docs {
			if nd := remap[d]; nd != math.MaxUint32 {
				pl.Docs[k], pl.TF[k] = nd, pl.TF[i]
				k++
			}
		}
		if k == 0 {
			delete(c.post, tok)
			continue
		}
		pl.Docs, pl.TF = slices.Clip(pl.Docs[:k]), slices.Clip(pl.TF[:k])
	}
	buf := make([]uint32, 0, 4096)
	for tok, bm := range c.desc {
		nb := roaring.New()
		it := bm.ManyIterator()
		for {
			k := it.NextMany(buf[:cap(buf)])
			if k == 0 {
				break
			}
			kept := buf[:0]
			for _, d := range buf[:k] {
				if nd := remap[d]; nd != math.MaxUint32 {
					kept = append(kept, nd)
				}
			}
			nb.AddMany(kept)
		}
		if nb.IsEmpty() {
			delete(c.desc, tok)
			continue
		}
		nb.RunOptimize()
		c.desc[tok] = nb
	}
	c.dead = 0
	c.index()
}

// peek sets the fields of p that every factor but the certificates' reads
// (what engine.Matcher.Skip needs; see Sink) to row r's, reusing p's
// months, and leaves ID, Category, ProvinceCode, ReviewStatus and
// Certifications as they are. complete sets those.
func (c *catalog) peek(r *row, p *engine.Product) {
	p.OrgID, p.ShipFrom = c.orgs.strs[r.Org], c.places.strs[r.Ship]
	p.PriceCNY, p.LivePriceCNY, p.CommissionRate, p.Stock, p.Booked = r.Price, r.Live, r.Commission, int64(r.Stock)+int64(r.Booked), int64(r.Booked)
	p.LeadTimeDays, p.ShelfLifeDays, p.ColdChain, p.PovertyRelief = int(r.Lead), int(r.Shelf), r.ColdChain, r.Poverty
	months := p.AvailableMonths[:0]
	for m := 1; m <= 12; m++ {
		if r.Months&(1<<(m-1)) != 0 {
			months = append(months, m)
		}
	}
	p.AvailableMonths = nil
	if len(months) > 0 {
		p.AvailableMonths = months
	}
}

// complete sets the fields of p that peek leaves alone to docnum d's (its
// row r), reusing p's certificates.
func (c *catalog) complete(v *vocab, d uint32, r *row, p *engine.Product) {
	p.ID, p.ProvinceCode = c.ids[d], c.places.strs[r.Prov]
	p.ReviewStatus = engine.ReviewPending
	if r.Approved {
		p.ReviewStatus = engine.ReviewApproved
	}
	p.Category = ""
	if r.Cat != noCategory {
		p.Category = v.cats[r.Cat]
	}
	certs := p.Certifications[:0]
	for _, ct := range c.certs[r.CertOff : r.CertOff+uint32(r.CertN)] {
		cert := engine.Certification{Type: v.certs[ct.Typ]}
		if ct.Exp != 0 {
			cert.ExpiresAt = time.Unix(0, ct.Exp).UTC()
		}
		certs = append(certs, cert)
	}
	p.Certifications = nil
	if len(certs) > 0 {
		p.Certifications = certs
	}
}

// product fills p (reusing its slices) with what matching reads of docnum
// d, and nothing else.
func (c *catalog) product(v *vocab, d uint32, p *engine.Product) {
	certs, months := p.Certifications[:0], p.AvailableMonths[:0]
	*p = engine.Product{Certifications: certs, AvailableMonths: months}
	c.peek(&c.rows[d], p)
	c.complete(v, d, &c.rows[d], p)
}

// scorer of the matching text relevance: for each query term the best of
// its alternatives counts (an alternative matches a document holding all of
// its tokens and scores its boost times the sum of its tokens' BM25
// weights, with boosted term frequencies and lengths); the terms' scores
// add up and the sum is scaled by the share of the terms matched, so that
// a document matching more of the keywords ranks higher (as Lucene's coord
// did). A document matches when some term does.
type textScorer struct {
	acc, term []float32 // by docnum
	hits      []uint8   // by docnum: terms matched
	touched   []uint32  // docnums with acc > 0, ascending once score returns
	termTouch []uint32
	mark      []uint64 // scratch bitset of sortTouched, all zero between calls
}

// descWeight scales a match in a description against one in titles and
// tags: a description match scores its tokens' idf times descWeight (one
// occurrence in a document of average length), below what a title match of
// the same tokens earns.
const descWeight = 0.5

// score fills ts.acc for plan and lists the matching docnums in ts.touched.
// With desc (search), an alternative also matches a document whose
// description holds all of its tokens.
func (c *catalog) score(ts *textScorer, plan [][]textAlt, desc bool) {
	n := len(c.ids)
	if cap(ts.acc) < n {
		ts.acc, ts.term, ts.hits = make([]float32, n), make([]float32, n), make([]uint8, n)
	}
	ts.acc, ts.term, ts.hits = ts.acc[:n], ts.term[:n], ts.hits[:n]
	ts.touched, ts.termTouch = ts.touched[:0], ts.termTouch[:0]
	live := float64(c.live())
	if live == 0 {
		return
	}
	avg := c.lenSum / live
	idf := func(pl *postings) float64 {
		// Dead slots are counted too (close enough between compactions),
		// but never beyond the live count: idf stays positive.
		df := min(float64(len(pl.Docs)), live)
		return math.Log(1 + (live-df+0.5)/(df+0.5))
	}
	// Lengths are sums of small integer weights: their length
	// normalisations are computed once per query (the same arithmetic).
	var normTab [normTabLen]float64
	for l := range normTab {
		normTab[l] = bm25K1 * (1 - bm25B + bm25B*float64(l)/avg)
	}
	weight := func(tf uint8, d uint32, idf float64) float32 {
		f := float64(tf)
		var norm float64
		if l := c.docLen[d]; l < normTabLen && l == float32(int(l)) {
			norm = normTab[int(l)]
		} else {
			norm = bm25K1 * (1 - bm25B + bm25B*float64(l)/avg)
		}
		return float32(idf * f * (bm25K1 + 1) / (f + norm))
	}
	for _, alts := range plan {
		for _, a := range alts {
			lists := make([]*postings, 0, len(a.tokens))
			for _, tok := range a.tokens {
				pl := c.post[tok]
				if pl == nil {
					lists = nil
					break
				}
				lists = append(lists, pl)
			}
			if desc {
				c.scoreDesc(ts, a, live)
			}
			if len(lists) == 0 {
				continue
			}
			// Conjunctions walk the shortest list and look d up in the others.
			slices.SortFunc(lists, func(x, y *postings) int { return len(x.Docs) - len(y.Docs) })
			idfs := make([]float64, len(lists))
			for i, pl := range lists {
				idfs[i] = idf(pl)
			}
			boost := float32(a.boost)
			if len(lists) == 1 {
				pl := lists[0]
				for i, d := range pl.Docs {
					if !c.isLive(d) {
						continue
					}
					s := boost * weight(pl.TF[i], d, idfs[0])
					if ts.term[d] == 0 {
						ts.termTouch = append(ts.termTouch, d)
					}
					ts.term[d] = max(ts.term[d], s)
				}
				continue
			}
			pos := make([]int, len(lists))
		next:
			for i, d := range lists[0].Docs {
				if !c.isLive(d) {
					continue
				}
				s := weight(lists[0].TF[i], d, idfs[0])
				for j := 1; j < len(lists); j++ {
					pl := lists[j]
					k, found := gallop(pl.Docs[pos[j]:], d)
					pos[j] += k
					if !found {
						continue next
					}
					s += weight(pl.TF[pos[j]], d, idfs[j])
				}
				s *= boost
				if ts.term[d] == 0 {
					ts.termTouch = append(ts.termTouch, d)
				}
				ts.term[d] = max(ts.term[d], s)
			}
		}
		for _, d := range ts.termTouch {
			if ts.acc[d] == 0 {
				ts.touched = append(ts.touched, d)
			}
			ts.acc[d] += ts.term[d]
			ts.hits[d] = min(ts.hits[d]+1, math.MaxUint8)
			ts.term[d] = 0
		}
		ts.termTouch = ts.termTouch[:0]
	}
	if terms := float32(len(plan)); terms > 1 {
		for _, d := range ts.touched {
			ts.acc[d] *= float32(ts.hits[d]) / terms
		}
	}
	if !slices.IsSorted(ts.touched) {
		ts.sortTouched(n)
	}
}

// normTabLen bounds the document lengths whose BM25 normalisation score
// looks up.
const normTabLen = 512

// gallop is slices.BinarySearch for a target likely near the front of
// docs: it doubles its step from the front, then searches the last step.
func gallop(docs []uint32, target uint32) (int, bool) {
	hi := 1
	for hi < len(docs) && docs[hi-1] < target {
		hi *= 2
	}
	lo := hi / 2
	hi = min(hi, len(docs))
	k, found := slices.BinarySearch(docs[lo:hi], target)
	return lo + k, found
}

// sortTouched puts ts.touched in ascending order through a bitset of the n
// docnums (linear; the callers then read the columns front to back).
func (ts *textScorer) sortTouched(n int) {
	words := (n + 63) / 64
	if cap(ts.mark) < words {
		ts.mark = make([]uint64, words)
	}
	mark := ts.mark[:words]
	for _, d := range ts.touched {
		mark[d/64] |= 1 << (d % 64)
	}
	ts.touched = ts.touched[:0]
	for w, b := range mark {
		for b != 0 {
			ts.touched = append(ts.touched, uint32(w*64+bits.TrailingZeros64(b)))
			b &= b - 1
		}
		mark[w] = 0
	}
}

// scoreDesc raises ts.term to the description score of alternative a for
// the documents whose descriptions hold all of its tokens.
func (c *catalog) scoreDesc(ts *textScorer, a textAlt, live float64) {
	bms := make([]*roaring.Bitmap, 0, len(a.tokens))
	w := 0.0
	for _, tok := range a.tokens {
		bm := c.desc[tok]
		if bm == nil {
			return
		}
		bms = append(bms, bm)
		df := min(float64(bm.GetCardinality()), live)
		w += math.Log(1 + (live-df+0.5)/(df+0.5))
	}
	if len(bms) == 0 {
		return
	}
	s := float32(a.boost * descWeight * w)
	all := bms[0]
	if len(bms) > 1 {
		all = roaring.FastAnd(bms...)
	}
	all.Iterate(func(d uint32) bool {
		if !c.isLive(d) || ts.term[d] >= s {
			return true
		}
		if ts.term[d] == 0 {
			ts.termTouch = append(ts.termTouch, d)
		}
		ts.term[d] = s
		return true
	})
}

// reset zeroes what score wrote.
func (ts *textScorer) reset() {
	for _, d := range ts.touched {
		ts.acc[d], ts.hits[d] = 0, 0
	}
	ts.touched = ts.touched[:0]
}
