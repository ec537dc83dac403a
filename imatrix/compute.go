package imatrix

import (
	"context"
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// minBatchRows is the smallest physical batch whose products llama-imatrix
// collects ("why are small batches ignored (<16 tokens)?").
const minBatchRows = 16

// Options control Compute; they mirror llama-imatrix's flags.
type Options struct {
	// Ctx is the tokens per chunk (-c). Required.
	Ctx int
	// Chunks is the most chunks to process (--chunks); 0 or less: all.
	Chunks int
	// Batch is the logical batch (-b, default 2048) and UBatch the
	// physical one (-ub, default 512): they decide which products hold
	// fewer than 16 tokens and are left out.
	Batch, UBatch int
	// BOS, when not negative, replaces the first token of every chunk
	// (llama-imatrix does so when the vocabulary adds BOS).
	BOS int
	// Datasets name the calibration text (imatrix.datasets).
	Datasets []string
	// Progress, if set, is called after each chunk.
	Progress func(done, total int)
}

// Compute runs forward over tokens (the whole calibration text, tokenized
// as llama-imatrix does: BOS first when the vocabulary adds one) in
// chunks of opt.Ctx consecutive tokens, the first of each replaced by
// BOS, and returns what c collected. forward must run the model over one
// chunk with c.Observe (ObserveExpert for expert stacks) attached to its
// projections. Every position of a chunk counts (the second half only
// matters for llama-imatrix's perplexity), except those in physical
// batches of fewer than 16 tokens.
// Fewer than 2·Ctx tokens is an error, as in llama-imatrix.
func Compute(ctx context.Context, tokens []int, opt Options, c *Collector, forward func(chunk []int) error) (*Matrix, error) {
	if opt.Ctx <= 0 {
		return nil, fmt.Errorf("imatrix: context of %d tokens: %w", opt.Ctx, format.ErrShape)
	}
	if len(tokens) < 2*opt.Ctx {
		return nil, fmt.Errorf("imatrix: %d tokens; a context of %d needs at least %d: %w", len(tokens), opt.Ctx, 2*opt.Ctx, format.ErrShape)
	}
	n := len(tokens) / opt.Ctx
	if opt.Chunks > 0 {
		n = min(n, opt.Chunks)
	}
	rows := countedRows(opt, n)
	chunk := make([]int, opt.Ctx)
	for i := range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		copy(chunk, tokens[i*opt.Ctx:(i+1)*opt.Ctx])
		if opt.BOS >= 0 {
			chunk[0] = opt.BOS
		}
		c.SetRows(rows[i])
		if err := forward(chunk); err != nil {
			c.SetRows(nil)
			return nil, fmt.Errorf("imatrix: chunk %d: %w", i+1, err)
		}
		if opt.Progress != nil {
			opt.Progress(i+1, n)
		}
	}
	c.SetRows(nil)
	return c.Matrix(opt.Ctx, opt.Datasets), nil
}

// countedRows returns, for each of n chunks, which positions fall in a
// physical batch of at least 16 tokens, as llama-imatrix batches them:
// chunks are grouped max(1, Batch/Ctx) to a logical batch (or a chunk is
// cut into logical batches of Batch tokens when Batch < Ctx), and each
// logical batch is cut into physical batches of min(UBatch, Batch)
// tokens. nil stands for "all positions count".
func countedRows(opt Options, n int) [][]bool {
	batch, ubatch := opt.Batch, opt.UBatch
	if batch <= 0 {
		batch = 2048
	}
	if ubatch <= 0 {
		ubatch = 512
	}
	nSeq := max(1, batch/opt.Ctx)
	batch = min(batch, nSeq*opt.Ctx)
	ubatch = min(ubatch, batch)
	out := make([][]bool, n)
	mark := func(seqs []int, from, to int) { // positions [from,to) of each chunk in seqs form one logical batch
		size := len(seqs) * (to - from)
		for u := 0; u < size; u += ubatch {
			ok := min(ubatch, size-u) >= minBatchRows
			for k := u; k < min(u+ubatch, size); k++ {
				out[seqs[k/(to-from)]][from+k%(to-from)] = ok
			}
		}
	}
	for i := 0; i < n; i += nSeq {
		var seqs []int
		for s := i; s < min(n, i+nSeq); s++ {
			out[s] = make([]bool, opt.Ctx)
			seqs = append(seqs, s)
		}
		for from := 0; from < opt.Ctx; from += batch {
			mark(seqs, from, min(opt.Ctx, from+batch))
		}
	}
	all := true
	for _, r := range out {
		for _, ok := range r {
			all = all && ok
		}
	}
	if all {
		return make([][]bool, n)
	}
	return out
}
