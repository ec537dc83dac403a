package imatrix

import (
	"maps"
	"slices"
	"strings"
	"sync"
)

// Collector accumulates squared inputs per weight matrix as
// llama-imatrix's collect_imatrix does: for every input row x of a
// weight whose name starts with "blk." (llama-imatrix leaves the output
// head out unless asked), sum[j] += x[j]² in float32, row after row, and
// count the rows. Observe is safe for concurrent use.
type Collector struct {
	mu    sync.Mutex
	stats map[string]*Entry
	rows  []bool // rows that count in the next forward pass; nil: all
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector { return &Collector{stats: map[string]*Entry{}} }

// SetRows says which input rows of the next forward passes count (rows[i]
// for row i of each observed input); nil counts all. llama-imatrix skips
// the products of physical batches of fewer than 16 tokens.
func (c *Collector) SetRows(rows []bool) {
	c.mu.Lock()
	c.rows = rows
	c.mu.Unlock()
}

// Observe adds the input rows of one product with the named weight:
//
//	x (rows, cols)
//
// It is what a model's projections report in their forward passes. Inputs
// of a weight whose column count changes are ignored after the first
// (llama-imatrix stops with an error; a model never does this).
func (c *Collector) Observe(weight string, x []float32, rows, cols int) {
	c.add(weight, 0, 1, x, rows, cols, true)
}

// ObserveExpert adds the rows routed to expert e of a stack of experts
// (llama.cpp's MUL_MAT_ID): the entry keeps one row of sums and one count
// per expert, and, as llama-imatrix collects every indirect product, no
// row is left out.
//
//	x (rows, cols)
func (c *Collector) ObserveExpert(weight string, e, experts int, x []float32, rows, cols int) {
	if e < 0 || e >= experts {
		return
	}
	c.add(weight, e, experts, x, rows, cols, false)
}

// add sums x's rows into matrix m of mats of the weight's entry; masked
// says whether the rows of SetRows apply.
func (c *Collector) add(weight string, m, mats int, x []float32, rows, cols int, masked bool) {
	if !strings.HasPrefix(weight, "blk.") {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.stats[weight]
	if e == nil {
		e = &Entry{Name: weight, Cols: cols, Sums: make([]float32, mats*cols), Counts: make([]float32, mats)}
		c.stats[weight] = e
	}
	if e.Cols != cols || e.Mats() != mats {
		return
	}
	sums := e.Sums[m*cols : (m+1)*cols]
	n := 0
	for r := range rows {
		if masked && c.rows != nil && (r >= len(c.rows) || !c.rows[r]) {
			continue
		}
		for j, v := range x[r*cols : (r+1)*cols] {
			sums[j] += float32(v * v) // rounded before the sum, as ggml does
		}
		n++
	}
	e.Counts[m] += float32(n)
}

// Matrix returns what has been collected, entries in name order. Chunks
// is the largest count divided by chunkSize (llama-imatrix's last chunk).
func (c *Collector) Matrix(chunkSize int, datasets []string) *Matrix {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := &Matrix{Datasets: datasets, ChunkSize: chunkSize}
	names := slices.Sorted(maps.Keys(c.stats))
	for _, n := range names {
		e := c.stats[n]
		m.Entries = append(m.Entries, Entry{Name: n, Cols: e.Cols, Sums: append([]float32(nil), e.Sums...), Counts: append([]float32(nil), e.Counts...)})
		for _, n := range e.Counts {
			if chunkSize > 0 {
				m.Chunks = max(m.Chunks, int(n)/chunkSize)
			}
		}
	}
	return m
}
