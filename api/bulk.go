package api

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/livematch/livematch/engine"
	"github.com/livematch/livematch/store"
)

// ImportConfig is what a bulk import needs.
type ImportConfig struct {
	Store          *store.Store
	Regions        engine.RegionBook
	ReviewRequired bool
}

// ImportProducts upserts the products of an NDJSON stream (one product per
// line, blank lines skipped) for owner, in chunks of bulkChunk. Bad lines
// are reported and skipped; good lines are stored even when others are bad.
// An error is returned only when the stream cannot be read or the database
// fails; the products of earlier chunks are stored by then (re-importing is
// safe: upsert by sku). progress, if set, is called after each chunk with
// the number of lines read so far.
func ImportProducts(ctx context.Context, cfg ImportConfig, r io.Reader, owner *engine.Org, progress func(lines int)) (BulkResult, error) {
	const op = "api.ImportProducts"
	keep := reviewPolicy(cfg.ReviewRequired)
	out := BulkResult{Errors: []BulkLineError{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxBulkLine)
	var (
		chunk []*engine.Product
		lines []int
		skus  = map[string]bool{}
		line  int
	)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		res, err := cfg.Store.BulkUpsertProducts(ctx, chunk, keep)
		if err != nil {
			return err
		}
		for i, r := range res {
			if r.Err != nil {
				out.Rejected++
				out.Errors = append(out.Errors, lineErr(lines[i], chunk[i].SKU, r.Err))
			} else {
				out.Accepted++
			}
		}
		chunk, lines = chunk[:0], lines[:0]
		clear(skus)
		if progress != nil {
			progress(line)
		}
		return nil
	}
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var in productIn
		if err := decodeBytes(b, &in); err != nil {
			out.Rejected++
			out.Errors = append(out.Errors, lineErr(line, "", err))
			continue
		}
		p, err := prepareProduct(&in, owner, cfg.Regions)
		if err != nil {
			out.Rejected++
			out.Errors = append(out.Errors, lineErr(line, in.SKU, err))
			continue
		}
		keep(nil, p)     // status of a new product; the store re-applies keep to updates
		if skus[p.SKU] { // the same sku twice in one chunk: write the first one first
			if err := flush(); err != nil {
				return out, err
			}
		}
		skus[p.SKU] = true
		chunk = append(chunk, p)
		lines = append(lines, line)
		if len(chunk) >= bulkChunk {
			if err := flush(); err != nil {
				return out, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			err = engine.Errorf(engine.KindTooLarge, op, "the body is larger than %d bytes; split the import", mbe.Limit)
		case errors.Is(err, bufio.ErrTooLong):
			err = engine.InvalidField(op, "body", "line "+strconv.Itoa(line+1)+" is longer than 1 MiB")
		default:
			err = engine.Wrap(engine.KindInvalid, op, "the body could not be read", err)
		}
		if ferr := flush(); ferr != nil {
			return out, ferr
		}
		return out, err
	}
	return out, flush()
}
