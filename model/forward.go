package model

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
)

// Errors for bad input to the model; both wrap a format sentinel.
var (
	// ErrTokenRange: a token id is negative or not below the vocabulary size.
	ErrTokenRange = fmt.Errorf("token id out of range: %w", format.ErrFormat)
	// ErrContext: a sequence is longer than the model's context.
	ErrContext = fmt.Errorf("sequence longer than the context: %w", format.ErrShape)
)

// Batch is a training or evaluation batch of B sequences of T tokens.
type Batch struct {
	B, T   int
	Tokens []int // (B*T) input ids
	// Targets (B*T) are the ids each position should predict; a negative
	// target does not count.
	Targets []int
	// Mask (B*T), when not nil, says which positions count in the loss
	// (e.g. only completion tokens).
	Mask []bool
	// LabelSmoothing ε mixes the one-hot target with the uniform
	// distribution: (1−ε)·onehot + ε/V.
	LabelSmoothing float32
}

func (m *Model) checkTokens(ids []int, what string) error {
	for i, id := range ids {
		if id < 0 || id >= m.Config.Vocab {
			return fmt.Errorf("model: %s[%d] = %d, vocabulary has %d: %w", what, i, id, m.Config.Vocab, ErrTokenRange)
		}
	}
	return nil
}

func (m *Model) checkBatch(b Batch) error {
	n := b.B * b.T
	switch {
	case b.B <= 0 || b.T <= 0:
		return fmt.Errorf("model: batch of %d x %d: %w", b.B, b.T, format.ErrShape)
	case b.T > m.Config.Context:
		return fmt.Errorf("model: %d tokens per sequence, context %d: %w", b.T, m.Config.Context, ErrContext)
	case len(b.Tokens) != n || len(b.Targets) != n || (b.Mask != nil && len(b.Mask) != n):
		return fmt.Errorf("model: batch %d x %d with %d tokens, %d targets, %d mask: %w", b.B, b.T, len(b.Tokens), len(b.Targets), len(b.Mask), format.ErrShape)
	case !(b.LabelSmoothing >= 0 && b.LabelSmoothing < 1):
		return fmt.Errorf("model: label smoothing %v: %w", b.LabelSmoothing, format.ErrFormat)
	}
	if err := m.checkTokens(b.Tokens, "token"); err != nil {
		return err
	}
	for i, t := range b.Targets {
		if t >= m.Config.Vocab {
			return fmt.Errorf("model: target[%d] = %d, vocabulary has %d: %w", i, t, m.Config.Vocab, ErrTokenRange)
		}
	}
	return nil
}

// Loss returns the mean cross-entropy of the batch's counted positions
// (forward only; no gradients).
func (m *Model) Loss(b Batch) (float32, error) { return m.forward(b, false) }

// Forward runs the batch forward keeping what Backward needs, and returns
// the mean cross-entropy of its counted positions. The lm head's softmax
// and its gradient are fused: the vocabulary-sized probabilities are
// computed once, a chunk of rows at a time. When fully fine-tuning, the lm
// head's weight gradient is therefore added to Grads here already: call
// ZeroGrad before Forward, not between Forward and Backward.
func (m *Model) Forward(b Batch) (float32, error) { return m.forward(b, true) }

func (m *Model) forward(b Batch, grad bool) (float32, error) {
	if err := m.checkBatch(b); err != nil {
		return 0, err
	}
	c := m.Config
	B, T, C, N := b.B, b.T, c.Embd, b.B*b.T
	a := m.actsFor(B, T)
	a.ready = false
	a.tokens = append(a.tokens[:0], b.Tokens...)
	a.targets = append(a.targets[:0], b.Targets...)
	count := 0
	for i := range N {
		if b.Targets[i] >= 0 && (b.Mask == nil || b.Mask[i]) {
			count++
		}
	}
	for i := range N {
		a.weight[i] = 0
		if b.Targets[i] >= 0 && (b.Mask == nil || b.Mask[i]) {
			a.weight[i] = 1 / float32(count)
		}
	}
	var wpe []float32
	if m.wpe != nil {
		wpe = m.wpe.F32
	}
	embeddingForward(a.resid[0], b.Tokens, T, 0, m.wte, wpe, m.embedScale())
	for l := range m.blocks {
		m.blockForward(l, a, grad)
	}
	m.normForward(a.nf, a.nfmean, a.nfrstd, a.resid[c.Layers], m.normF, m.normFb, N)
	var dx, dw []float32
	if grad {
		dx, dw = a.dnf, m.dhead
	}
	loss := classifier(&a.head, a.nf, N, C, m.head, float32(c.FinalSoftcap), b.Targets, a.weight, b.LabelSmoothing, dx, dw)
	a.ready = grad
	return float32(loss), nil
}

// embedScale is the factor on the token embedding: √n_embd (float32
// sqrtf, as llama.cpp's ggml_scale) for Gemma, else 1.
func (m *Model) embedScale() float32 {
	if m.Config.Recipe.EmbedScale {
		return float32(math.Sqrt(float64(m.Config.Embd)))
	}
	return 1
}

// addInto sets dst += src elementwise.
func addInto(dst, src []float32) {
	src = src[:len(dst)]
	parallelFor(len(dst), 2, func(lo, hi int) {
		d := dst[lo:hi]
		for i, v := range src[lo:hi] {
			d[i] += v
		}
	})
}
