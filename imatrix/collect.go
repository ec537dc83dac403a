package imatrix

import (
	"sort"
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
// It is the observer a model calls from each projection's forward pass.
// Inputs of a weight whose column count changes are ignored after the
// first (llama-imatrix stops with an error; a model never does this).
func (c *Collector) Observe(weight string, x []float32, rows, cols int) {
	if !strings.HasPrefix(weight, "blk.") {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.stats[weight]
	if e == nil {
		e = &Entry{Name: weight, Cols: cols, Sums: make([]float32, cols), Counts: []float32{0}}
		c.stats[weight] = e
	}
	if e.Cols != cols {
		return
	}
	n := 0
	for r := range rows {
		if c.rows != nil && (r >= len(c.rows) || !c.rows[r]) {
			continue
		}
		for j, v := range x[r*cols : (r+1)*cols] {
			e.Sums[j] += float32(v * v) // rounded before the sum, as ggml does
		}
		n++
	}
	e.Counts[0] += float32(n)
}

// Matrix returns what has been collected, entries in name order. Chunks
// is the largest count divided by chunkSize (llama-imatrix's last chunk).
func (c *Collector) Matrix(chunkSize int, datasets []string) *Matrix {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := &Matrix{Datasets: datasets, ChunkSize: chunkSize}
	names := make([]string, 0, len(c.stats))
	for n := range c.stats {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := c.stats[n]
		m.Entries = append(m.Entries, Entry{Name: n, Cols: e.Cols, Sums: append([]float32(nil), e.Sums...), Counts: append([]float32(nil), e.Counts...)})
		if chunkSize > 0 {
			m.Chunks = max(m.Chunks, int(e.Counts[0])/chunkSize)
		}
	}
	return m
}
