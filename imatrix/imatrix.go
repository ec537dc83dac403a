package imatrix

import (
	"fmt"
	"math"
	"sort"

	"github.com/lorakit/lorakit/format"
)

// Entry is the data of one weight matrix (or stack of expert matrices).
type Entry struct {
	// Name is the weight's tensor name ("blk.0.attn_q.weight").
	Name string
	// Cols is the number of columns (inputs) of one matrix.
	Cols int
	// Sums (Mats x Cols) are the sums of squared inputs, matrix by matrix.
	Sums []float32
	// Counts (Mats) are the numbers of input rows summed into each matrix.
	Counts []float32
}

// Mats is the number of matrices (experts) of the entry.
func (e *Entry) Mats() int { return len(e.Counts) }

// Importance returns the per-column weights llama-quantize passes to ggml:
// each sum divided by its matrix's count, in float32, and 1 for every
// column of a matrix that was never seen (count 0). The result has
// Mats x Cols values.
func (e *Entry) Importance() []float32 {
	out := make([]float32, len(e.Sums))
	for m, c := range e.Counts {
		row, dst := e.Sums[m*e.Cols:(m+1)*e.Cols], out[m*e.Cols:(m+1)*e.Cols]
		for j, s := range row {
			if c > 0 {
				dst[j] = s / c
			} else {
				dst[j] = 1
			}
		}
	}
	return out
}

// check verifies the entry's sizes.
func (e *Entry) check() error {
	switch {
	case e.Cols <= 0 || len(e.Counts) == 0:
		return fmt.Errorf("imatrix: entry %q: %d columns, %d matrices: %w", e.Name, e.Cols, len(e.Counts), format.ErrFormat)
	case len(e.Sums) != e.Cols*len(e.Counts):
		return fmt.Errorf("imatrix: entry %q: %d sums for %d matrices of %d columns: %w", e.Name, len(e.Sums), len(e.Counts), e.Cols, format.ErrFormat)
	}
	return nil
}

// Matrix is a whole importance matrix: its entries in name order and what
// it was computed from.
type Matrix struct {
	Entries []Entry
	// Datasets are the calibration files (imatrix.datasets).
	Datasets []string
	// Chunks is the number of chunks processed (imatrix.chunk_count); 0
	// when a legacy file does not say.
	Chunks int
	// ChunkSize is the tokens per chunk (imatrix.chunk_size); 0 for a
	// legacy file.
	ChunkSize int
}

// Entry returns the entry of the named weight.
func (m *Matrix) Entry(name string) (*Entry, bool) {
	i := sort.Search(len(m.Entries), func(i int) bool { return m.Entries[i].Name >= name })
	if i < len(m.Entries) && m.Entries[i].Name == name {
		return &m.Entries[i], true
	}
	return nil, false
}

// sortEntries puts the entries in name order (as llama.cpp writes and
// reads them).
func (m *Matrix) sortEntries() {
	sort.Slice(m.Entries, func(i, j int) bool { return m.Entries[i].Name < m.Entries[j].Name })
}

// CheckFinite returns an error naming the first entry holding a NaN or
// ±Inf importance (llama-quantize refuses such a matrix).
func (m *Matrix) CheckFinite() error {
	for i := range m.Entries {
		e := &m.Entries[i]
		for j, v := range e.Importance() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("imatrix: entry %q: value %d is %v: %w", e.Name, j, v, format.ErrFormat)
			}
		}
	}
	return nil
}
