package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// level is a latency series at one concurrency.
type level struct {
	clients int
	l       latency
}

// report collects a run's figures and correctness failures.
type report struct {
	cfg               config
	started, finished time.Time
	cpus              int
	cpuModel          string
	orgs              int
	generate          time.Duration

	ingest                *ingestResult
	ready                 time.Duration
	rssLoaded, rssRestart int64
	rssServing            int64 // the restarted server after serving every HTTP run
	rssAnon, rssFile      int64 // its resident set then, anonymous and file-backed
	httpMatch, httpSearch []level
	inprocMatch           latency
	inprocSearch          latency
	plainMatch            latency
	plainOverlap          float64
	pgSkipped, pgSettings string
	pgCopy, pgIndex       time.Duration
	pgMatch, pgSearch     []level
	pgRSS                 int64
	pgOverlap             float64
	pgSameOverlap         float64
	sameProfiles          int
	sameIdentical         int
	reserve               *reserveResult // nil with -reserve=false
	failures              []string
}

// fail records a failed correctness check.
func (r *report) fail(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }

func ratio(a, b time.Duration) string {
	if a <= 0 || b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f×", float64(b)/float64(a))
}

// levelOf returns the series at c clients.
func levelOf(ls []level, c int) (latency, bool) {
	for _, l := range ls {
		if l.clients == c {
			return l.l, true
		}
	}
	return latency{}, false
}

// markdown renders the report.
func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Performance: livematch side by side with PostgreSQL 15 and plain Bleve")
	p("")
	p("Written by `go run ./bench -products %d -seed %d -profiles %d -queries %d -requests %d` on %s.",
		r.cfg.products, r.cfg.seed, r.cfg.profiles, r.cfg.queries, r.cfg.requests, r.started.Format("2006-01-02"))
	p("Machine: %d × %s, %s, %s/%s. Everything runs on this one machine over loopback.", r.cpus, r.cpuModel, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	p("Catalogue: %d products of %d orgs from `fixtures.Generate` (seed %d), %d demand profiles, %d search queries (Chinese, English, mixed, one character).",
		r.cfg.products, r.orgs, r.cfg.seed, r.cfg.profiles, r.cfg.queries)
	p("")
	if r.ingest != nil {
		in := r.ingest
		p("## Ingest and start-up")
		p("")
		p("| | livematch | PostgreSQL 15 |")
		p("|---|---|---|")
		pgLoad := "–"
		if r.pgCopy > 0 {
			pgLoad = fmt.Sprintf("%.0f rows/s (COPY %s + indexes %s)", float64(r.cfg.products)/(r.pgCopy+r.pgIndex).Seconds(),
				r.pgCopy.Round(time.Millisecond), r.pgIndex.Round(time.Millisecond))
		}
		p("| load until searchable | %.0f products/s (%s through `POST /v1/products:bulk`, %d uploaders × %d per request; acknowledged after %s) | %s |",
			float64(in.products)/in.searchable.Seconds(), in.searchable.Round(time.Millisecond), r.cfg.uploaders, r.cfg.chunk, in.ackTime.Round(time.Millisecond), pgLoad)
		p("| ready after a restart | %s | – |", r.ready.Round(time.Millisecond))
		pgRSS := "–"
		if r.pgRSS > 0 {
			pgRSS = mib(r.pgRSS) + " (postgres processes, sum of peaks)"
		}
		p("| peak RSS | %s while loading; after a restart %s when ready, %s after serving the HTTP runs (resident then: %s anonymous, %s file-backed: mapped index segments and the binary, which the kernel can drop) | %s |",
			mib(r.rssLoaded), mib(r.rssRestart), mib(r.rssServing), mib(r.rssAnon), mib(r.rssFile), pgRSS)
		p("")
	}
	p("## Matching (top 20 of a demand profile)")
	p("")
	p("| | p50 | p95 | p99 | throughput |")
	p("|---|---|---|---|---|")
	row := func(name string, l latency) {
		p("| %s | %s | %s | %s | %.0f/s |", name, ms(l.p50), ms(l.p95), ms(l.p99), l.rps)
	}
	row("livematch in process (index + engine, explained)", r.inprocMatch)
	for _, lv := range r.httpMatch {
		row(fmt.Sprintf("livematch over HTTP, %d clients", lv.clients), lv.l)
	}
	for _, lv := range r.pgMatch {
		row(fmt.Sprintf("PostgreSQL, %d clients", lv.clients), lv.l)
	}
	row("plain Bleve query in process (no engine)", r.plainMatch)
	p("")
	if len(r.pgMatch) > 0 {
		p("Ratios (PostgreSQL time ÷ livematch time, same clients):")
		p("")
		p("| clients | p50 | p99 |")
		p("|---|---|---|")
		if pg, ok := levelOf(r.pgMatch, 1); ok {
			p("| 1, livematch in process | %s | %s |", ratio(r.inprocMatch.p50, pg.p50), ratio(r.inprocMatch.p99, pg.p99))
		}
		for _, lv := range r.httpMatch {
			if pg, ok := levelOf(r.pgMatch, lv.clients); ok {
				p("| %d, livematch over HTTP | %s | %s |", lv.clients, ratio(lv.l.p50, pg.p50), ratio(lv.l.p99, pg.p99))
			}
		}
		p("")
	}
	p("## Search (one page of 20, with total and facets in livematch)")
	p("")
	p("| | p50 | p95 | p99 | throughput |")
	p("|---|---|---|---|---|")
	row("livematch in process", r.inprocSearch)
	for _, lv := range r.httpSearch {
		row(fmt.Sprintf("livematch over HTTP, %d clients", lv.clients), lv.l)
	}
	for _, lv := range r.pgSearch {
		row(fmt.Sprintf("PostgreSQL, %d clients (no total, no facets)", lv.clients), lv.l)
	}
	p("")
	p("## Do the answers agree?")
	p("")
	p("- Plain Bleve vs livematch: %.0f%% of livematch's top 20 also in plain Bleve's (Bleve ranks by text relevance alone, so they are not meant to agree).", 100*r.plainOverlap)
	if r.pgSkipped != "" {
		p("- PostgreSQL was left out: %s", r.pgSkipped)
	} else {
		p("- PostgreSQL (%s) vs livematch, all profiles: %.0f%% overlap of the top 20 (text relevance differs: BM25 on a bilingual analyzer with a glossary vs `ts_rank` on bigrams; logistics and fair share are off in SQL).", r.pgSettings, 100*r.pgOverlap)
		p("- Where the formula is the same (category browses without keywords, text and logistics weights 0, no fair share): %d of %d profiles have identical top 20 lists (%.0f%% overlap).",
			r.sameIdentical, r.sameProfiles, 100*r.pgSameOverlap)
	}
	if rr := r.reserve; rr != nil {
		p("")
		p("## Reservations (`POST /v1/reservations`, one unit each, %d per level)", r.cfg.reserveRequests)
		p("")
		p("The same server, after the runs above; its own supplier and MCN and %d products of its own (loaded and indexed in %s).",
			rr.products, rr.setup.Round(time.Millisecond))
		p("")
		p("| | p50 | p95 | p99 | throughput | matchd CPU per reservation |")
		p("|---|---|---|---|---|---|")
		rrow := func(name string, l latency, cpu time.Duration) {
			p("| %s | %s | %s | %s | %.0f/s | %s |", name, ms(l.p50), ms(l.p95), ms(l.p99), l.rps, ms(cpu))
		}
		for i, lv := range rr.hot {
			rrow(fmt.Sprintf("one hot product (stock %d), %d clients", hotStock, lv.clients), lv.l, rr.hotCPU[i])
		}
		for i, lv := range rr.spread {
			rrow(fmt.Sprintf("%d products, random, %d clients", rr.products-2, lv.clients), lv.l, rr.spreadCPU[i])
		}
		p("")
		ck := rr.check
		p("- Booked units: the hot product shows %d booked for %d accepted reservations; %d of %d products of the spread runs show other booked units than accepted there.",
			rr.hotBooked, rr.hotAccepted, rr.spreadMismatch, rr.spreadChecked)
		p("- Contended check (%d clients, 1–10 units per request until refused three times, %s): %d units asked of a stock of %d; %d units accepted in %d reservations, %d refused with 409; the product shows booked %d, available %d; its held reservations list %d units.",
			rr.checkClients, rr.checkDuration.Round(time.Millisecond), ck.asked, checkStock, ck.accepted, ck.acceptedN, ck.refusedN, ck.booked, ck.avail, ck.listed)
	}
	if len(r.failures) > 0 {
		p("")
		p("## Failed checks")
		p("")
		for _, f := range r.failures {
			p("- %s", f)
		}
	}
	p("")
	p("Run time: %s.", r.finished.Sub(r.started).Round(time.Second))
	return b.String()
}
