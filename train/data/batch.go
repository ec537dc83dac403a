package data

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/lorakit/lorakit/format"
)

// Batch is a padded batch of examples: row b holds example Index[b]'s
// tokens, positions t < Lengths[b] are real, the rest padding.
//
//	Inputs  (B, T)  token at t (Pad beyond the length)
//	Targets (B, T)  token at t+1, the one predicted from position t (Pad beyond)
//	Mask    (B, T)  1 where the target is a completion token (the loss; see Example.Loss), else 0
type Batch struct {
	B, T    int
	Inputs  []int
	Targets []int
	Mask    []float32
	Lengths []int // (B) real positions per row
	Index   []int // (B) example indices
}

// Valid reports whether position t of row b is real (not padding): the
// attention mask of right-padded causal rows.
func (b *Batch) Valid(row, t int) bool { return t < b.Lengths[row] }

// LossTokens counts the positions whose target is in the loss.
func (b *Batch) LossTokens() int {
	n := 0
	for _, m := range b.Mask {
		if m != 0 {
			n++
		}
	}
	return n
}

// MakeBatch pads examples[idx] into a Batch of T = the longest input
// (tokens − 1) among them.
func MakeBatch(examples []Example, idx []int, pad int) Batch {
	b := Batch{B: len(idx), Index: slices.Clone(idx), Lengths: make([]int, len(idx))}
	for _, i := range idx {
		b.T = max(b.T, len(examples[i].Tokens)-1)
	}
	n := b.B * b.T
	b.Inputs, b.Targets, b.Mask = make([]int, n), make([]int, n), make([]float32, n)
	for r, i := range idx {
		e := examples[i]
		l := len(e.Tokens) - 1
		b.Lengths[r] = l
		row := r * b.T
		for t := 0; t < b.T; t++ {
			if t >= l {
				b.Inputs[row+t], b.Targets[row+t] = pad, pad
				continue
			}
			b.Inputs[row+t], b.Targets[row+t] = e.Tokens[t], e.Tokens[t+1]
			if t+1 >= e.Prompt && (e.Loss == nil || t+1 < len(e.Loss) && e.Loss[t+1]) {
				b.Mask[row+t] = 1
			}
		}
	}
	return b
}

// Batcher plans the batches of an epoch.
type Batcher struct {
	Size int    // examples per batch
	Seed uint64 // with the epoch, seeds the shuffle
	// Shuffle shuffles examples and batches (training); without it the
	// data order is kept and only sorted within windows (evaluation).
	Shuffle bool
	// Window is the number of batches sorted by length together (default
	// 50, as Hugging Face's LengthGroupedSampler's mega-batches); 1 turns
	// length grouping off.
	Window int
}

// Plan returns the batches of an epoch as example indices: examples are
// shuffled (seed, epoch), cut into windows of Window·Size, each window is
// sorted by length (longest first, ties by index), cut into batches of
// Size (the last may be short), and the batch order is shuffled. The same
// seed and epoch give the same plan everywhere.
func (bt Batcher) Plan(examples []Example, epoch int) ([][]int, error) {
	if bt.Size < 1 {
		return nil, fmt.Errorf("data: batch size %d: %w", bt.Size, format.ErrInvalidOption)
	}
	window := bt.Window
	if window < 1 {
		window = 50
	}
	n := len(examples)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	r := newRNG(bt.Seed, uint64(epoch))
	if bt.Shuffle {
		r.shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	var batches [][]int
	for lo := 0; lo < n; lo += window * bt.Size {
		w := order[lo:min(lo+window*bt.Size, n)]
		if window > 1 {
			slices.SortStableFunc(w, func(a, b int) int {
				return cmp.Or(cmp.Compare(len(examples[b].Tokens), len(examples[a].Tokens)), cmp.Compare(a, b))
			})
		}
		for s := 0; s < len(w); s += bt.Size {
			batches = append(batches, w[s:min(s+bt.Size, len(w)):min(s+bt.Size, len(w))])
		}
	}
	if bt.Shuffle {
		r.shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	}
	return batches, nil
}

// rng is SplitMix64 (Steele, Lea & Flood 2014): fixed here so that plans
// never change with the Go version.
type rng struct{ s uint64 }

func newRNG(seed, stream uint64) *rng {
	return &rng{s: seed ^ (stream+1)*0x9e3779b97f4a7c15}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a uniform integer in [0, n), n > 0, by rejection.
func (r *rng) intn(n int) int {
	limit := ^uint64(0) - ^uint64(0)%uint64(n)
	for {
		if v := r.next(); v < limit {
			return int(v % uint64(n))
		}
	}
}

// shuffle is Fisher-Yates from the end.
func (r *rng) shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, r.intn(i+1))
	}
}
