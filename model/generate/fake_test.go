package generate

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/lorakit/lorakit/format"
)

// fake is a Session whose next-token distribution is a hand-made function
// of the whole sequence (prompt included). Its logits are log
// probabilities, so the expected log probabilities of a test are sums of
// logs of the table's numbers.
type fake struct {
	next  func(seq []int) []float64 // probabilities, one per token
	seq   []int
	steps *atomic.Int64 // Step calls across all forks (beams step in parallel)
}

func newFake(next func(seq []int) []float64) *fake {
	return &fake{next: next, steps: new(atomic.Int64)}
}

func (f *fake) Step(tokens []int) ([]float32, error) {
	f.steps.Add(1)
	for _, id := range tokens {
		if id < 0 || id >= len(f.next(nil)) {
			return nil, fmt.Errorf("fake: token %d: %w", id, format.ErrFormat)
		}
	}
	f.seq = append(f.seq, tokens...)
	p := f.next(f.seq)
	logits := make([]float32, len(p))
	for i, v := range p {
		logits[i] = float32(math.Log(v))
	}
	return logits, nil
}

func (f *fake) Fork() Session { return &fake{next: f.next, seq: slices.Clone(f.seq), steps: f.steps} }

// byLast builds a table that depends only on the last token.
func byLast(rows [][]float64) func([]int) []float64 {
	return func(seq []int) []float64 {
		if len(seq) == 0 {
			return rows[0]
		}
		return rows[seq[len(seq)-1]]
	}
}

// bySeq builds a table keyed by the whole sequence, with a default row.
func bySeq(def []float64, rows map[string][]float64) func([]int) []float64 {
	return func(seq []int) []float64 {
		if r, ok := rows[fmt.Sprint(seq)]; ok {
			return r
		}
		return def
	}
}
