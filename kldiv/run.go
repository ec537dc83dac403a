package kldiv

import (
	"context"
	"fmt"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model"
)

// Options control Run.
type Options struct {
	// Ctx is the tokens per chunk; 0 means the smaller of the two models'
	// contexts.
	Ctx int
	// Chunks is the most chunks to score; 0 or less: all.
	Chunks int
	// BOS, when not negative, replaces the first token of every chunk.
	BOS int
	// Progress, if set, is called after each chunk.
	Progress func(done, total int)
}

// Run scores got against ref on tokens as llama-perplexity's KL mode
// does: consecutive chunks of Ctx tokens, the first replaced by BOS, and
// in each the positions from Ctx/2 to Ctx−2 predicting the next token
// (the first half only gives the models context). At least 2·Ctx tokens
// are needed, as llama-perplexity asks.
func Run(ctx context.Context, ref, got *model.Model, tokens []int, opt Options) (Result, error) {
	if ref.Config.Vocab != got.Config.Vocab {
		return Result{}, fmt.Errorf("kldiv: vocabularies of %d and %d tokens: %w", ref.Config.Vocab, got.Config.Vocab, format.ErrShape)
	}
	n := opt.Ctx
	if n <= 0 {
		n = min(ref.Config.Context, got.Config.Context)
	}
	if n < 4 || n > ref.Config.Context || n > got.Config.Context {
		return Result{}, fmt.Errorf("kldiv: chunks of %d tokens for contexts of %d and %d: %w", n, ref.Config.Context, got.Config.Context, format.ErrShape)
	}
	if len(tokens) < 2*n {
		return Result{}, fmt.Errorf("kldiv: %d tokens; chunks of %d need at least %d: %w", len(tokens), n, 2*n, format.ErrShape)
	}
	chunks := len(tokens) / n
	if opt.Chunks > 0 {
		chunks = min(chunks, opt.Chunks)
	}
	first := n / 2
	var acc Accumulator
	chunk := make([]int, n)
	for c := range chunks {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		copy(chunk, tokens[c*n:(c+1)*n])
		if opt.BOS >= 0 {
			chunk[0] = opt.BOS
		}
		rs, gs := ref.NewSession(), got.NewSession()
		in := chunk[:first+1]
		for pos := first; pos < n-1; pos++ {
			lr, err := rs.Step(in)
			if err != nil {
				return Result{}, fmt.Errorf("kldiv: reference, chunk %d: %w", c+1, err)
			}
			lg, err := gs.Step(in)
			if err != nil {
				return Result{}, fmt.Errorf("kldiv: model, chunk %d: %w", c+1, err)
			}
			t, err := Compare(lr, lg, chunk[pos+1])
			if err != nil {
				return Result{}, fmt.Errorf("chunk %d position %d: %w", c+1, pos, err)
			}
			acc.Add(t)
			in = chunk[pos+1 : pos+2]
		}
		if opt.Progress != nil {
			opt.Progress(c+1, chunks)
		}
	}
	return acc.Result(), nil
}
