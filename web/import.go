package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// The bulk import: an uploaded NDJSON or CSV file goes to the API's
// POST /v1/products:bulk in chunks, in the background; the job page shows
// its progress and then the per-line errors. The browser never holds the
// data: it polls a small status fragment.

// Import limits.
const (
	importChunk      = 1000      // lines per bulk call
	importKeepErrors = 1000      // error lines kept in full
	importRunningMax = 3         // running imports per org
	importForget     = time.Hour // finished jobs are forgotten after this
)

// jobs keeps the console's running and finished imports, by random id.
type jobs struct {
	now  func() time.Time
	mu   sync.Mutex
	byID map[string]*importJob
}

func newJobs(now func() time.Time) *jobs { return &jobs{now: now, byID: map[string]*importJob{}} }

// errImportBusy is returned when an org already runs importRunningMax jobs.
var errImportBusy = errors.New("too many imports running")

// start registers a new job for org (after forgetting old finished ones).
func (j *jobs) start(org, name, format string, total int) (*importJob, error) {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails
	job := &importJob{id: "imp_" + hex.EncodeToString(b[:]), org: org, name: name, format: format,
		total: total, started: j.now(), now: j.now}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.pruneLocked()
	running := 0
	for _, x := range j.byID {
		if x.org == org && x.running() {
			running++
		}
	}
	if running >= importRunningMax {
		return nil, errImportBusy
	}
	j.byID[job.id] = job
	return job, nil
}

// get returns org's job; another org's job is not found.
func (j *jobs) get(id, org string) (*importJob, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.pruneLocked()
	job, ok := j.byID[id]
	if !ok || job.org != org {
		return nil, false
	}
	return job, true
}

// recent lists org's jobs, newest first.
func (j *jobs) recent(org string) []*importJob {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.pruneLocked()
	var out []*importJob
	for _, x := range j.byID {
		if x.org == org {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b *importJob) int { return b.started.Compare(a.started) })
	return out
}

func (j *jobs) pruneLocked() {
	cutoff := j.now().Add(-importForget)
	for id, x := range j.byID {
		if f := x.finishedAt(); !f.IsZero() && f.Before(cutoff) {
			delete(j.byID, id)
		}
	}
}

// importJob is one uploaded file on its way to the API.
type importJob struct {
	id, org, name, format string
	started               time.Time
	now                   func() time.Time

	mu       sync.Mutex
	total    int // lines in the file
	done     int // lines handled
	accepted int
	rejected int
	errs     []importError // the errors of the first importKeepErrors lines
	errLines int           // lines with errors, all of them
	fatal    *importError  // why the import stopped early
	finished time.Time
}

// importError is one message about one line of the file: the API's (Msg)
// or the console's own about the file's form (Key and Args, translated
// when shown).
type importError struct {
	Line  int
	SKU   string
	Field string
	Msg   string
	Key   string
	Args  []any
}

func (job *importJob) running() bool {
	job.mu.Lock()
	defer job.mu.Unlock()
	return job.finished.IsZero()
}

func (job *importJob) finishedAt() time.Time {
	job.mu.Lock()
	defer job.mu.Unlock()
	return job.finished
}

// lineError records the errors of one line.
func (job *importJob) lineError(es ...importError) {
	if len(es) == 0 {
		return
	}
	job.mu.Lock()
	defer job.mu.Unlock()
	job.rejected++
	job.addLocked(es)
}

func (job *importJob) addLocked(es []importError) {
	job.errLines++
	if job.errLines <= importKeepErrors {
		job.errs = append(job.errs, es...)
	}
}

// progress moves the lines handled forward.
func (job *importJob) progress(line int) {
	job.mu.Lock()
	defer job.mu.Unlock()
	job.done = max(job.done, min(line, job.total))
}

// stop ends the job early with a reason.
func (job *importJob) stop(e importError) {
	job.mu.Lock()
	defer job.mu.Unlock()
	if job.fatal == nil {
		job.fatal = &e
	}
}

func (job *importJob) finish() {
	job.mu.Lock()
	defer job.mu.Unlock()
	if job.fatal == nil {
		job.done = job.total
	}
	job.finished = job.now()
}

// importStatus is a job as a page shows it (a copy taken under the lock,
// messages in the page's language).
type importStatus struct {
	ID, Name, Format string
	Started          time.Time
	Total, Done      int
	Accepted         int
	Rejected         int
	Errors           []importErrorView
	ErrorLines       int
	MoreErrors       int
	Fatal            string
	FatalLine        int
	Running          bool
	Seconds          string
}

// importErrorView is one row of the errors table.
type importErrorView struct {
	Line               int
	SKU, Field, Detail string
}

// status snapshots the job for rq's page.
func (job *importJob) status(rq *request) importStatus {
	job.mu.Lock()
	defer job.mu.Unlock()
	st := importStatus{ID: job.id, Name: job.name, Format: job.format, Started: job.started, Total: job.total, Done: job.done,
		Accepted: job.accepted, Rejected: job.rejected, ErrorLines: job.errLines, Running: job.finished.IsZero()}
	end := job.finished
	if st.Running {
		end = job.now()
	}
	st.Seconds = strconv.FormatFloat(end.Sub(job.started).Seconds(), 'f', 1, 64)
	st.MoreErrors = max(0, job.errLines-importKeepErrors)
	if !st.Running {
		st.Errors = make([]importErrorView, len(job.errs))
		for i, e := range job.errs {
			st.Errors[i] = importErrorView{Line: e.Line, SKU: e.SKU, Field: e.Field, Detail: e.text(rq)}
		}
		slices.SortStableFunc(st.Errors, func(a, b importErrorView) int { return a.Line - b.Line })
	}
	if job.fatal != nil {
		st.Fatal, st.FatalLine = job.fatal.text(rq), job.fatal.Line
	}
	return st
}

func (e importError) text(rq *request) string {
	if e.Key != "" {
		return rq.T(e.Key, e.Args...)
	}
	return e.Msg
}

// importPage is the import pages' data: the upload form (Job nil) or a job.
type importPage struct {
	Error   string // why the upload was refused
	Format  string
	MaxMiB  int64
	Recent  []importStatus
	Job     *importStatus
	Columns string
	Formats []string
}

func (s *Server) importRoutes() {
	m := s.mux
	limit := s.cfg.MaxImportBytes + (1 << 20)
	m.Handle("GET /console/import", s.page(supplierRole, s.importForm))
	m.Handle("POST /console/import", s.importTooLarge(limit, s.pageLimit(supplierRole, limit, s.importUpload)))
	m.Handle("GET /console/import/template.csv", s.page(supplierRole, s.importTemplate))
	m.Handle("GET /console/import/{job}", s.page(supplierRole, s.importJobPage))
	m.Handle("GET /console/import/{job}/status", s.page(supplierRole, s.importJobStatus))
}

func (s *Server) importData(rq *request) importPage {
	d := importPage{Format: "auto", MaxMiB: s.cfg.MaxImportBytes >> 20, Columns: strings.Join(csvColumns(), ", "),
		Formats: []string{"auto", "ndjson", "csv"}}
	for _, job := range s.jobs.recent(rq.se.org.ID) {
		d.Recent = append(d.Recent, job.status(rq))
	}
	return d
}

func (s *Server) importForm(w http.ResponseWriter, rq *request) {
	d := s.importData(rq)
	q := rq.r.URL.Query()
	switch q.Get("refused") {
	case "too_large":
		d.Error = rq.T("import.too_large", s.cfg.MaxImportBytes>>20)
	case "busy":
		d.Error = rq.T("import.busy", importRunningMax)
	case "no_file":
		d.Error = rq.T("import.no_file")
	case "empty":
		d.Error = rq.T("import.empty")
	}
	if f := q.Get("format"); f == "csv" || f == "ndjson" {
		d.Format = f
	}
	rq.render(w, http.StatusOK, "import", rq.T("import.title"), d)
}

// importRefused sends the browser back to the upload form, which says why
// (too_large, busy, no_file, empty). A redirect rather than an error
// status: the upload script answers an error by posting the form again,
// which would send a refused file twice.
func (s *Server) importRefused(w http.ResponseWriter, rq *request, why string) {
	q := url.Values{"refused": {why}}
	if f := rq.r.FormValue("format"); f == "csv" || f == "ndjson" {
		q.Set("format", f)
	}
	s.log.Info("import refused", "why", why)
	rq.redirect(w, "/console/import?"+q.Encode())
}

// importTooLarge answers an upload whose body is over limit (instead of
// failing its CSRF check on a cut-off body). What the browser sends is
// read and dropped, up to a bound, so that it sees the answer rather than
// a reset connection.
func (s *Server) importTooLarge(limit int64, next http.Handler) http.Handler {
	return s.secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength <= limit {
			next.ServeHTTP(w, r)
			return
		}
		_, _ = io.CopyN(io.Discard, r.Body, 4*limit)
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/console/import?refused=too_large", http.StatusSeeOther)
	}))
}

func (s *Server) importUpload(w http.ResponseWriter, rq *request) {
	limit := s.cfg.MaxImportBytes
	f, hdr, err := rq.r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.importRefused(w, rq, "too_large")
			return
		}
		s.importRefused(w, rq, "no_file")
		return
	}
	defer f.Close()
	if hdr.Size > limit {
		s.importRefused(w, rq, "too_large")
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		rq.failErr(w, fmt.Errorf("reading the upload: %w", err))
		return
	}
	if int64(len(data)) > limit {
		s.importRefused(w, rq, "too_large")
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		s.importRefused(w, rq, "empty")
		return
	}
	format := importFormat(rq.r.FormValue("format"), hdr.Filename, data)
	name := path.Base(strings.ReplaceAll(hdr.Filename, "\\", "/"))
	if utf8.RuneCountInString(name) > 120 {
		name = string([]rune(name)[:120]) + "…"
	}
	job, err := s.jobs.start(rq.se.org.ID, name, format, countLines(data))
	if err != nil {
		s.importRefused(w, rq, "busy")
		return
	}
	// The job outlives the request: it keeps the request's values but not
	// its cancellation, and calls the API with the session's credential.
	call := jobCaller(context.WithoutCancel(rq.ctx()), s, rq.se, rq.r.RemoteAddr)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.runImport(job, call, data)
	}()
	s.log.Info("import started", "job", job.id, "org", job.org, "format", format, "lines", job.total, "bytes", len(data))
	rq.redirect(w, "/console/import/"+job.id)
}

// importFormat decides a file's format: as chosen, else by its name, else
// by its first character.
func importFormat(chosen, name string, data []byte) string {
	if chosen == "csv" || chosen == "ndjson" {
		return chosen
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".csv", ".tsv", ".txt":
		return "csv"
	case ".ndjson", ".jsonl", ".json":
		return "ndjson"
	}
	if t := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return "ndjson"
	}
	return "csv"
}

// countLines counts a file's lines (a last line without a newline counts).
func countLines(data []byte) int {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// jobCaller returns a function calling the API in process as se's org,
// outside of the request that started the job (rq.call's approach, with a
// request of its own).
func jobCaller(ctx context.Context, s *Server, se *session, remote string) func(method, path string, body []byte) *apiResult {
	r := (&http.Request{RemoteAddr: remote, Header: http.Header{}, URL: &url.URL{}}).WithContext(ctx)
	rq := &request{s: s, r: r, se: &session{cred: se.cred, org: se.org}}
	return func(method, path string, body []byte) *apiResult {
		return rq.call(method, path, nil, body, 0)
	}
}

// bulkAnswer is the API's answer to POST /v1/products:bulk.
type bulkAnswer struct {
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	Errors   []struct {
		Line   int            `json:"line"`
		SKU    string         `json:"sku"`
		Errors []problemField `json:"errors"`
	} `json:"errors"`
}

// runImport sends the file to the API and records the outcome.
func (s *Server) runImport(job *importJob, call func(method, path string, body []byte) *apiResult, data []byte) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("import crashed", "job", job.id, "panic", p)
			job.stop(importError{Key: "import.failed"})
		}
		job.finish()
		st := job.snapshotCounts()
		s.log.Info("import finished", "job", job.id, "accepted", st[0], "rejected", st[1], "took", time.Since(start))
	}()
	var it chunkSource
	if job.format == "csv" {
		it = newCSVChunks(job, data)
	} else {
		it = newNDJSONChunks(data)
	}
	for {
		body, lineOf, last, ok := it.next()
		if !ok {
			return
		}
		if len(lineOf) > 0 && !s.sendChunk(job, call, body, lineOf) {
			return
		}
		job.progress(last)
	}
}

func (job *importJob) snapshotCounts() [2]int {
	job.mu.Lock()
	defer job.mu.Unlock()
	return [2]int{job.accepted, job.rejected}
}

// sendChunk posts one chunk and records its outcome; lineOf maps the
// chunk's line numbers (from 1) to the file's. It reports whether to go on.
func (s *Server) sendChunk(job *importJob, call func(method, path string, body []byte) *apiResult, body []byte, lineOf []int) bool {
	var res *apiResult
	for attempt := 1; ; attempt++ {
		res = call(http.MethodPost, "/v1/products:bulk", body)
		if (res.Status != http.StatusTooManyRequests && res.Status != http.StatusServiceUnavailable) || attempt == 5 {
			break
		}
		wait := time.Duration(attempt) * time.Second
		if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && ra > 0 && ra < 30 {
			wait = time.Duration(ra) * time.Second
		}
		time.Sleep(wait)
	}
	first := lineOf[0]
	var out bulkAnswer
	if !res.OK() || res.decode(&out) != nil {
		detail := ""
		if res.Problem != nil {
			detail = res.Problem.Detail
			for _, f := range res.Problem.Errors {
				detail += " (" + f.Field + ": " + f.Message + ")"
			}
		}
		switch {
		case res.Status == http.StatusUnauthorized:
			job.stop(importError{Line: first, Key: "import.signed_out"})
		case res.Status == http.StatusBadRequest || res.Status == http.StatusRequestEntityTooLarge:
			// The chunk as a whole was refused (e.g. a line over 1 MiB):
			// say so for its lines and go on with the next one.
			job.lineError(importError{Line: first, Field: "line", Key: "import.chunk_failed", Args: []any{first, lineOf[len(lineOf)-1], detail}})
			return true
		default:
			job.stop(importError{Line: first, Key: "import.stopped", Args: []any{first, res.Status, detail}})
		}
		return false
	}
	// The API names no sku for a line it could not decode; the line's own
	// sku, when it has one, tells the user which product it was.
	var chunkLines [][]byte
	skuAt := func(l int) string {
		if chunkLines == nil {
			chunkLines = bytes.Split(body, []byte{'\n'})
		}
		var x struct {
			SKU any `json:"sku"`
		}
		if l >= 1 && l <= len(chunkLines) && json.Unmarshal(chunkLines[l-1], &x) == nil {
			s, _ := x.SKU.(string)
			return s
		}
		return ""
	}
	mapLine := func(l int) int {
		if l >= 1 && l <= len(lineOf) {
			return lineOf[l-1]
		}
		return first + l - 1
	}
	job.mu.Lock()
	defer job.mu.Unlock()
	job.accepted += out.Accepted
	job.rejected += out.Rejected
	for _, le := range out.Errors {
		line := mapLine(le.Line)
		if le.SKU == "" {
			le.SKU = skuAt(le.Line)
		}
		es := make([]importError, 0, len(le.Errors))
		for _, f := range le.Errors {
			es = append(es, importError{Line: line, SKU: le.SKU, Field: f.Field, Msg: f.Message})
		}
		if len(es) == 0 {
			es = append(es, importError{Line: line, SKU: le.SKU, Field: "line", Key: "import.line_refused"})
		}
		job.addLocked(es)
	}
	return true
}

// chunkSource cuts a file into NDJSON chunks for the bulk API: the chunk,
// the file line of each of its lines, and the last file line it covers.
type chunkSource interface {
	next() (body []byte, lineOf []int, last int, ok bool)
}

// ndjsonChunks cuts NDJSON into chunks of importChunk lines, blank lines
// kept so that the API's line numbers plus the chunk's offset are the
// file's.
type ndjsonChunks struct {
	data []byte
	line int
}

func newNDJSONChunks(data []byte) *ndjsonChunks {
	return &ndjsonChunks{data: bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))}
}

func (c *ndjsonChunks) next() ([]byte, []int, int, bool) {
	if len(c.data) == 0 {
		return nil, nil, 0, false
	}
	end, n := 0, 0
	for n < importChunk && end < len(c.data) {
		i := bytes.IndexByte(c.data[end:], '\n')
		if i < 0 {
			end = len(c.data)
		} else {
			end += i + 1
		}
		n++
	}
	body := c.data[:end]
	c.data = c.data[end:]
	lineOf := make([]int, n)
	for i := range lineOf {
		lineOf[i] = c.line + i + 1
	}
	c.line += n
	if len(bytes.TrimSpace(body)) == 0 {
		return body, nil, c.line, true // blank lines only: nothing to send
	}
	return body, lineOf, c.line, true
}

// csvChunks turns CSV rows into NDJSON chunks of importChunk products. The
// header row names the API's fields; cells become form values and go
// through productJSON, the product form's conversion.
type csvChunks struct {
	job    *importJob
	rd     *csv.Reader
	header []string
	done   bool
}

func newCSVChunks(job *importJob, data []byte) *csvChunks {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		// Spreadsheets in China often save CSV in GB 18030 (GBK).
		if dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data); err == nil && utf8.Valid(dec) {
			data = dec
		}
	}
	rd := csv.NewReader(bytes.NewReader(data))
	rd.FieldsPerRecord = -1
	rd.TrimLeadingSpace = true
	c := &csvChunks{job: job, rd: rd}
	header, err := rd.Read()
	if err != nil || len(header) == 0 {
		job.stop(importError{Line: 1, Key: "import.csv_header"})
		c.done = true
		return c
	}
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
	}
	c.header = header
	return c
}

func (c *csvChunks) next() ([]byte, []int, int, bool) {
	if c.done {
		return nil, nil, 0, false
	}
	var (
		body   bytes.Buffer
		lineOf []int
		last   = 1
	)
	for len(lineOf) < importChunk {
		rec, err := c.rd.Read()
		if errors.Is(err, io.EOF) {
			c.done = true
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			c.job.lineError(importError{Line: pe.StartLine, Field: "line", Key: "import.csv_bad", Args: []any{pe.Err.Error()}})
			last = pe.Line
			continue
		}
		if err != nil {
			c.job.stop(importError{Line: last + 1, Key: "import.csv_bad", Args: []any{err.Error()}})
			c.done = true
			break
		}
		line, _ := c.rd.FieldPos(0)
		last = line
		if emptyRecord(rec) {
			continue
		}
		if len(rec) != len(c.header) {
			c.job.lineError(importError{Line: line, SKU: cellOf(c.header, rec, "sku"), Field: "line", Key: "import.csv_cells", Args: []any{len(rec), len(c.header)}})
			continue
		}
		raw, err := json.Marshal(csvProduct(c.header, rec))
		if err != nil {
			c.job.lineError(importError{Line: line, Field: "line", Key: "import.csv_bad", Args: []any{err.Error()}})
			continue
		}
		body.Write(raw)
		body.WriteByte('\n')
		lineOf = append(lineOf, line)
	}
	if c.done && len(lineOf) == 0 {
		return nil, nil, 0, false
	}
	if len(lineOf) > 0 {
		last = max(last, lineOf[len(lineOf)-1])
	}
	return body.Bytes(), lineOf, last, true
}

func emptyRecord(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func cellOf(header, rec []string, name string) string {
	if i := slices.Index(header, name); i >= 0 && i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

// csvProduct converts one CSV row to the API's product object: cells are
// set as the form's values (list cells split on | or ;, certificates as
// type or type:number:yyyy-mm-dd items separated by |) and converted by
// productJSON. A column the form does not know, or a yes/no cell that is
// neither, goes to the API as written, so that its message names it.
func csvProduct(header, rec []string) map[string]any {
	v := url.Values{}
	extra := map[string]any{}
	kinds := map[string]kind{}
	for _, f := range prodFields {
		kinds[f.name] = f.kind
	}
	for i, name := range header {
		cell := strings.TrimSpace(rec[i])
		if name == "" || cell == "" && kinds[name] != kBool {
			continue
		}
		if name == "certifications" {
			for _, item := range strings.FieldsFunc(cell, func(r rune) bool { return r == '|' || r == ';' || r == '；' }) {
				parts := strings.SplitN(strings.TrimSpace(item), ":", 4)
				for len(parts) < 4 {
					parts = append(parts, "")
				}
				typ := strings.TrimSpace(parts[0])
				if typ == "" {
					typ = item // the API names a certificate without a type
				}
				v.Add("certifications.type", typ)
				v.Add("certifications.number", strings.TrimSpace(parts[1]))
				v.Add("certifications.expires_at", strings.TrimSpace(parts[2]))
				v.Add("certifications.issuer", strings.TrimSpace(parts[3]))
			}
			continue
		}
		k, known := kinds[name]
		switch {
		case !known:
			extra[name] = cell
		case k == kMulti || k == kIntMulti:
			for _, x := range splitList(cell) {
				v.Add(name, x)
			}
		case k == kBool:
			switch strings.ToLower(cell) {
			case "true", "1", "yes", "y", "on", "是", "有":
				v.Set(name, "true")
			case "", "false", "0", "no", "n", "off", "否", "无":
			default:
				extra[name] = cell
			}
		default:
			v.Set(name, cell)
		}
	}
	obj := productJSON(v)
	for k, x := range extra {
		obj[k] = x
	}
	return obj
}

// csvColumns are the CSV template's columns: the API's product fields.
func csvColumns() []string {
	cols := make([]string, 0, len(prodFields)+1)
	for _, f := range prodFields {
		cols = append(cols, f.name)
		if f.name == "available_months" {
			cols = append(cols, "certifications")
		}
	}
	return cols
}

// importTemplate serves a CSV with the header row and one example product.
func (s *Server) importTemplate(w http.ResponseWriter, rq *request) {
	example := map[string]string{
		"sku": "GN-ORANGE-5KG", "title_zh": "赣南脐橙 5斤装", "title_en": "Gannan navel oranges 2.5 kg",
		"description_zh": "产地直发，现摘现发", "description_en": "Shipped from the orchard, picked to order",
		"category": "fresh_fruit", "tags": "礼盒|gift box", "price_cny": "39.9", "live_price_cny": "29.9",
		"commission_rate": "0.2", "stock": "5000", "moq": "1", "lead_time_days": "2", "ship_from": "360732",
		"cold_chain": "false", "shelf_life_days": "30", "available_months": "11|12|1|2",
		"certifications": "geo_indication|green_food:LB-18-2311120456A:2027-10-31", "origin_country": "CN",
		"export_ready": "true", "sample_available": "true",
	}
	cols := csvColumns()
	row := make([]string, len(cols))
	for i, c := range cols {
		row[i] = example[c]
	}
	var buf bytes.Buffer
	buf.WriteString("\xef\xbb\xbf") // so that spreadsheets read it as UTF-8
	cw := csv.NewWriter(&buf)
	_ = cw.Write(cols)
	_ = cw.Write(row)
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="livematch-products.csv"`)
	_, _ = buf.WriteTo(w)
}

func (s *Server) importJobPage(w http.ResponseWriter, rq *request) {
	job, ok := s.jobs.get(rq.r.PathValue("job"), rq.se.org.ID)
	if !ok {
		rq.fail(w, http.StatusNotFound, rq.T("import.gone"))
		return
	}
	st := job.status(rq)
	rq.render(w, http.StatusOK, "import", rq.T("import.job.title"), importPage{Job: &st})
}

// importJobStatus is the polled fragment: progress while the job runs,
// the summary and errors (and no more polling) when it is done.
func (s *Server) importJobStatus(w http.ResponseWriter, rq *request) {
	job, ok := s.jobs.get(rq.r.PathValue("job"), rq.se.org.ID)
	if !ok {
		if rq.r.Header.Get("HX-Request") == "true" {
			// 200, so that htmx swaps the message in and stops polling.
			rq.renderBlock(w, http.StatusOK, "import", "import-gone", rq.T("import.job.title"), importPage{})
			return
		}
		rq.fail(w, http.StatusNotFound, rq.T("import.gone"))
		return
	}
	st := job.status(rq)
	rq.renderBlock(w, http.StatusOK, "import", "import-status", rq.T("import.job.title"), importPage{Job: &st})
}
