package indexer

import (
	"bufio"
	"crypto/rand"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/RoaringBitmap/roaring/v2"
)

// snapshotFile holds the catalogue as a clean Close left it, inside the
// index directory. Open reads it instead of decoding and analysing every
// stored record again, and removes it at once: after a crash there is no
// snapshot and the catalogue is rebuilt from the stored records, which are
// always right.
const snapshotFile = "catalogue.snapshot"

// snapshotSchema changes whenever the snapshot's layout or meaning does.
const snapshotSchema = schemaVersion + "/catalogue5"

// snapshot is the catalogue in a form gob can write. It is written as a
// snapHeader and then snapshot values of at most snapChunk items of each
// column, which Decode appends together: gob reads one whole message into
// memory, so one message for a million products would cost hundreds of
// megabytes at every start.
type snapshot struct {
	Schema     string
	Nonce      string // also in Bleve's internal storage while the snapshot is valid
	Checkpoint int64
	DocCount   uint64
	IDs        []string
	Seqs       []int64
	Rows       []row
	Certs      []certCol
	Orgs       []string
	Places     []string
	Tokens     []string
	Post       []postings // parallel to Tokens; for Post and Desc a chunk holds snapChunk/16
	DescTokens []string
	Desc       []*roaring.Bitmap // parallel to DescTokens
	DocLen     []float32
	TextHash   []uint64
}

// snapHeader opens the snapshot file: what the snapshot is of and how many
// items of each column follow.
type snapHeader struct {
	Schema                    string
	Nonce                     string
	Checkpoint                int64
	DocCount                  uint64
	Orgs                      []string
	Places                    []string
	Docs, Certs, Tokens, Desc int
}

// snapChunk is how many products (and certificates) one message holds.
const snapChunk = 1 << 16

// writeSnapshot writes snap to enc as a header and chunks.
func writeSnapshot(enc *gob.Encoder, snap *snapshot) error {
	h := snapHeader{Schema: snap.Schema, Nonce: snap.Nonce, Checkpoint: snap.Checkpoint, DocCount: snap.DocCount,
		Orgs: snap.Orgs, Places: snap.Places, Docs: len(snap.IDs), Certs: len(snap.Certs), Tokens: len(snap.Tokens), Desc: len(snap.DescTokens)}
	if err := enc.Encode(&h); err != nil {
		return err
	}
	cut := func(n, i, size int) (int, int) { return min(i*size, n), min((i+1)*size, n) }
	for i := 0; ; i++ {
		var ch snapshot
		lo, hi := cut(h.Docs, i, snapChunk)
		ch.IDs, ch.Seqs, ch.Rows, ch.DocLen, ch.TextHash = snap.IDs[lo:hi], snap.Seqs[lo:hi], snap.Rows[lo:hi], snap.DocLen[lo:hi], snap.TextHash[lo:hi]
		lo, hi = cut(h.Certs, i, snapChunk)
		ch.Certs = snap.Certs[lo:hi]
		lo, hi = cut(h.Tokens, i, snapChunk/16)
		ch.Tokens, ch.Post = snap.Tokens[lo:hi], snap.Post[lo:hi]
		lo, hi = cut(h.Desc, i, snapChunk/256)
		ch.DescTokens, ch.Desc = snap.DescTokens[lo:hi], snap.Desc[lo:hi]
		if len(ch.IDs)+len(ch.Certs)+len(ch.Tokens)+len(ch.DescTokens) == 0 {
			return nil
		}
		if err := enc.Encode(&ch); err != nil {
			return err
		}
	}
}

// readSnapshot reads what writeSnapshot wrote.
func readSnapshot(dec *gob.Decoder) (*snapshot, error) {
	var h snapHeader
	if err := dec.Decode(&h); err != nil {
		return nil, err
	}
	snap := &snapshot{Schema: h.Schema, Nonce: h.Nonce, Checkpoint: h.Checkpoint, DocCount: h.DocCount, Orgs: h.Orgs, Places: h.Places}
	if h.Schema != snapshotSchema {
		return snap, nil // the caller rejects it
	}
	// Sized up front (a damaged header cannot ask for more than 2^26).
	docs, certs := min(max(h.Docs, 0), 1<<26), min(max(h.Certs, 0), 1<<26)
	snap.IDs, snap.Seqs, snap.Rows = make([]string, 0, docs), make([]int64, 0, docs), make([]row, 0, docs)
	snap.DocLen, snap.TextHash, snap.Certs = make([]float32, 0, docs), make([]uint64, 0, docs), make([]certCol, 0, certs)
	for len(snap.IDs) < h.Docs || len(snap.Certs) < h.Certs || len(snap.Tokens) < h.Tokens || len(snap.DescTokens) < h.Desc {
		var ch snapshot
		if err := dec.Decode(&ch); err != nil {
			return nil, err
		}
		if len(ch.IDs)+len(ch.Certs)+len(ch.Tokens)+len(ch.DescTokens) == 0 {
			return nil, errors.New("an empty chunk")
		}
		snap.IDs, snap.Seqs, snap.Rows = append(snap.IDs, ch.IDs...), append(snap.Seqs, ch.Seqs...), append(snap.Rows, ch.Rows...)
		snap.DocLen, snap.TextHash = append(snap.DocLen, ch.DocLen...), append(snap.TextHash, ch.TextHash...)
		snap.Certs = append(snap.Certs, ch.Certs...)
		snap.Tokens, snap.Post = append(snap.Tokens, ch.Tokens...), append(snap.Post, ch.Post...)
		snap.DescTokens, snap.Desc = append(snap.DescTokens, ch.DescTokens...), append(snap.Desc, ch.Desc...)
	}
	return snap, nil
}

// saveSnapshot writes the (compacted) catalogue next to the index. The
// caller holds applyMu, so nothing changes meanwhile.
func (x *Index) saveSnapshot() error {
	n, err := x.idx.DocCount()
	if err != nil {
		return err
	}
	x.mu.Lock()
	x.cat.compact()
	c := &x.cat
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	snap := snapshot{Schema: snapshotSchema, Nonce: hex.EncodeToString(nonce), Checkpoint: x.checkpoint.Load(), DocCount: n,
		IDs: c.ids, Seqs: c.seqs, Rows: c.rows, Certs: c.certs, Orgs: c.orgs.strs, Places: c.places.strs,
		DocLen: c.docLen, TextHash: c.textHash}
	snap.Tokens = make([]string, 0, len(c.post))
	snap.Post = make([]postings, 0, len(c.post))
	for tok, pl := range c.post {
		snap.Tokens = append(snap.Tokens, tok)
		snap.Post = append(snap.Post, *pl)
	}
	snap.DescTokens = make([]string, 0, len(c.desc))
	snap.Desc = make([]*roaring.Bitmap, 0, len(c.desc))
	for tok, bm := range c.desc {
		snap.DescTokens = append(snap.DescTokens, tok)
		snap.Desc = append(snap.Desc, bm)
	}
	x.mu.Unlock()
	path := filepath.Join(x.path, snapshotFile)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = writeSnapshot(gob.NewEncoder(w), &snap)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	// The snapshot counts only while the index holds its nonce; Open
	// deletes both, so any later change of the index invalidates it.
	return x.idx.SetInternal([]byte(keySnapshot), []byte(snap.Nonce))
}

// loadSnapshot restores the catalogue from the snapshot if there is one that
// matches the index (same schema, checkpoint and document count), and
// removes the file either way. It reports whether it restored.
func (x *Index) loadSnapshot(docCount uint64) (bool, error) {
	path := filepath.Join(x.path, snapshotFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	nonce, _ := x.idx.GetInternal([]byte(keySnapshot))
	defer func() {
		_ = f.Close()
		_ = os.Remove(path)
		_ = x.idx.DeleteInternal([]byte(keySnapshot))
	}()
	snap, err := readSnapshot(gob.NewDecoder(bufio.NewReaderSize(f, 1<<20)))
	if err != nil {
		return false, fmt.Errorf("snapshot: %w", err)
	}
	n := len(snap.IDs)
	switch {
	case len(nonce) == 0 || string(nonce) != snap.Nonce:
		return false, errors.New("the snapshot does not belong to this state of the index")
	case snap.Schema != snapshotSchema:
		return false, fmt.Errorf("snapshot schema %q, want %q", snap.Schema, snapshotSchema)
	case snap.Checkpoint != x.checkpoint.Load() || snap.DocCount != docCount || uint64(n) != docCount:
		return false, fmt.Errorf("snapshot of checkpoint %d with %d products, index at %d with %d",
			snap.Checkpoint, n, x.checkpoint.Load(), docCount)
	case len(snap.Seqs) != n || len(snap.Rows) != n || len(snap.DocLen) != n || len(snap.TextHash) != n || len(snap.Tokens) != len(snap.Post) ||
		len(snap.DescTokens) != len(snap.Desc):
		return false, errors.New("snapshot columns of different lengths")
	}
	c := catalog{ids: snap.IDs, seqs: snap.Seqs, rows: snap.Rows, certs: snap.Certs, docLen: snap.DocLen, textHash: snap.TextHash,
		byID: make(map[string]uint32, n), post: make(map[string]*postings, len(snap.Tokens)),
		desc: make(map[string]*roaring.Bitmap, len(snap.DescTokens))}
	for d, id := range c.ids {
		if id == "" {
			return false, errors.New("snapshot has a dead slot")
		}
		c.byID[id] = uint32(d)
		c.lenSum += float64(c.docLen[d])
		r := c.rows[d]
		if int(r.Org) >= len(snap.Orgs) || int(r.Ship) >= len(snap.Places) || int(r.Prov) >= len(snap.Places) ||
			int(r.CertOff)+int(r.CertN) > len(c.certs) {
			return false, fmt.Errorf("snapshot row %d out of range", d)
		}
	}
	if len(c.byID) != n {
		return false, errors.New("snapshot has duplicate ids")
	}
	for _, s := range snap.Orgs {
		c.orgs.id(s)
	}
	for _, s := range snap.Places {
		c.places.id(s)
	}
	for i, tok := range snap.Tokens {
		pl := snap.Post[i]
		if len(pl.Docs) != len(pl.TF) {
			return false, errors.New("snapshot postings of different lengths")
		}
		for _, d := range pl.Docs {
			if int(d) >= n {
				return false, fmt.Errorf("snapshot posting %d out of range", d)
			}
		}
		c.post[tok] = &pl
	}
	for i, tok := range snap.DescTokens {
		bm := snap.Desc[i]
		if bm == nil || !bm.IsEmpty() && bm.Maximum() >= uint32(n) {
			return false, errors.New("snapshot description bitmap out of range")
		}
		c.desc[tok] = bm
	}
	c.index()
	x.cat = c
	return true, nil
}
