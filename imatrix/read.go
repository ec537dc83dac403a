package imatrix

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
)

// The GGUF keys and tensor name suffixes of the format.
const (
	KeyDatasets   = "imatrix.datasets"
	KeyChunkCount = "imatrix.chunk_count"
	KeyChunkSize  = "imatrix.chunk_size"
	sumsSuffix    = ".in_sum2"
	countsSuffix  = ".counts"
)

// Read reads an importance matrix file, GGUF or legacy .dat (detected by
// the GGUF magic), with the checks llama-quantize makes: at least one
// entry, the imatrix.* keys of a GGUF file, a counts tensor for every sums
// tensor. Malformed files give errors wrapping format.ErrFormat that name
// the file (and entry).
func Read(path string) (*Matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("imatrix: %w: %w", err, format.ErrNotFound)
		}
		return nil, fmt.Errorf("imatrix: %w", err)
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err == nil && string(magic) == "GGUF" {
		m, err := readGGUF(path)
		if err != nil {
			return nil, fmt.Errorf("imatrix: %s: %w", path, err)
		}
		return m, nil
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("imatrix: %w", err)
	}
	m, err := ReadLegacy(io.NewSectionReader(f, 0, st.Size()), st.Size())
	if err != nil {
		return nil, fmt.Errorf("imatrix: %s: %w", path, err)
	}
	return m, nil
}

// readGGUF reads the GGUF format.
func readGGUF(path string) (*Matrix, error) {
	r, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	md := r.Metadata()
	m := &Matrix{}
	ds, okD := md.Get(KeyDatasets)
	cc, okC := md.Int(KeyChunkCount)
	cs, okS := md.Int(KeyChunkSize)
	if !okD || !okC || !okS {
		return nil, fmt.Errorf("missing imatrix metadata (%s, %s, %s): %w", KeyDatasets, KeyChunkCount, KeyChunkSize, format.ErrFormat)
	}
	names, ok := ds.([]string)
	if !ok {
		return nil, fmt.Errorf("%s is %T, want an array of strings: %w", KeyDatasets, ds, format.ErrFormat)
	}
	m.Datasets, m.Chunks, m.ChunkSize = names, int(cc), int(cs)
	type pair struct{ sums, counts *format.TensorInfo }
	pairs := map[string]*pair{}
	var order []string
	infos := r.Tensors()
	for i := range infos {
		t := &infos[i]
		base, isSums := strings.CutSuffix(t.Name, sumsSuffix)
		if !isSums {
			var isCounts bool
			if base, isCounts = strings.CutSuffix(t.Name, countsSuffix); !isCounts {
				continue // other tensors are ignored, as llama.cpp does
			}
		}
		if base == "" {
			continue
		}
		p := pairs[base]
		if p == nil {
			p = &pair{}
			pairs[base] = p
			order = append(order, base)
		}
		if isSums {
			p.sums = t
		} else {
			p.counts = t
		}
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("no importance data (no %s tensors): %w", sumsSuffix, format.ErrFormat)
	}
	for _, name := range order {
		p := pairs[name]
		if p.sums == nil || p.counts == nil {
			return nil, fmt.Errorf("entry %q: mismatched sums and counts: %w", name, format.ErrFormat)
		}
		e, err := ggufEntry(r, name, *p.sums, *p.counts)
		if err != nil {
			return nil, err
		}
		m.Entries = append(m.Entries, e)
	}
	m.sortEntries()
	return m, nil
}

// ggufEntry reads one entry's two tensors.
func ggufEntry(r *gguf.Reader, name string, sums, counts format.TensorInfo) (Entry, error) {
	for _, t := range []format.TensorInfo{sums, counts} {
		if t.DType != format.F32 {
			return Entry{}, fmt.Errorf("tensor %q is %v, want F32: %w", t.Name, t.DType, format.ErrFormat)
		}
	}
	// sums: ne = [cols, mats] (row-major [mats, cols]); no third dimension.
	cols, mats := int64(1), int64(1)
	switch n := len(sums.Shape); {
	case n == 1:
		cols = sums.Shape[0]
	case n == 2:
		mats, cols = sums.Shape[0], sums.Shape[1]
	default:
		for _, d := range sums.Shape[:n-2] {
			if d != 1 {
				return Entry{}, fmt.Errorf("tensor %q has shape %v, want at most 2 dimensions: %w", sums.Name, sums.Shape, format.ErrFormat)
			}
		}
		mats, cols = sums.Shape[n-2], sums.Shape[n-1]
	}
	nCounts, err := counts.NumElements()
	if err != nil {
		return Entry{}, err
	}
	if cols <= 0 || mats <= 0 || nCounts != mats {
		return Entry{}, fmt.Errorf("entry %q: sums %v and counts %v disagree: %w", name, sums.Shape, counts.Shape, format.ErrFormat)
	}
	s, err := readF32(r, sums.Name)
	if err != nil {
		return Entry{}, err
	}
	c, err := readF32(r, counts.Name)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Name: name, Cols: int(cols), Sums: s, Counts: c}, nil
}

// readF32 returns a copy of an F32 tensor's values.
func readF32(r *gguf.Reader, name string) ([]float32, error) {
	b, err := r.TensorData(name)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}

// ReadLegacy reads the legacy .dat format from r (size bytes). Each
// entry's values are the means times its ncall; the entry gets one matrix
// whose count is ncall (1 when ncall is not positive, where llama-quantize
// uses the values as they are), so that Importance returns what
// llama-quantize computes.
func ReadLegacy(r io.ReaderAt, size int64) (*Matrix, error) {
	d := &legacyDecoder{r: io.NewSectionReader(r, 0, size), left: size}
	n := d.i32("entry count")
	if d.err == nil && n < 1 {
		return nil, fmt.Errorf("legacy imatrix: %d entries, no data: %w", n, format.ErrFormat)
	}
	m := &Matrix{}
	seen := map[string]bool{}
	for i := 0; i < int(n) && d.err == nil; i++ {
		name, _, _ := strings.Cut(d.str(fmt.Sprintf("name of entry %d", i+1)), "\x00") // read as a C string
		ncall := d.i32("ncall of " + name)
		nval := d.i32("value count of " + name)
		if d.err != nil {
			break
		}
		if nval < 1 || int64(nval)*4 > d.left {
			return nil, fmt.Errorf("legacy imatrix: entry %q: %d values, %d bytes left: %w", name, nval, d.left, format.ErrFormat)
		}
		if seen[name] {
			return nil, fmt.Errorf("legacy imatrix: entry %q appears twice: %w", name, format.ErrFormat)
		}
		seen[name] = true
		vals := d.f32s(int(nval), name)
		count := float32(1)
		if ncall > 0 {
			count = float32(ncall)
		}
		m.Entries = append(m.Entries, Entry{Name: name, Cols: int(nval), Sums: vals, Counts: []float32{count}})
	}
	if d.err == nil && d.left > 0 {
		m.Chunks = int(d.i32("last chunk"))
		if ds := d.str("dataset name"); d.err == nil {
			m.Datasets = []string{ds}
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("legacy imatrix: %w", d.err)
	}
	m.sortEntries()
	return m, nil
}

// legacyDecoder reads little-endian values with a sticky error.
type legacyDecoder struct {
	r    io.Reader
	left int64
	err  error
}

func (d *legacyDecoder) read(n int64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > d.left {
		d.err = fmt.Errorf("%s: %d bytes wanted, %d left: %w", what, n, d.left, format.ErrFormat)
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.err = fmt.Errorf("%s: %w", what, err)
		return nil
	}
	d.left -= n
	return b
}

func (d *legacyDecoder) i32(what string) int32 {
	b := d.read(4, what)
	if b == nil {
		return 0
	}
	return int32(binary.LittleEndian.Uint32(b))
}

func (d *legacyDecoder) str(what string) string {
	n := d.i32(what)
	b := d.read(int64(n), what)
	return string(b)
}

func (d *legacyDecoder) f32s(n int, what string) []float32 {
	b := d.read(int64(n)*4, what)
	if b == nil {
		return nil
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}
