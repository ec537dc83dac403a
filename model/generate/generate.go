package generate

import (
	"context"
	"fmt"
)

// Generate continues prompt (token ids, at least one) with s, a fresh
// session, as o says: beam search when o.Beams > 1, otherwise sampling when
// o.Temperature > 0, otherwise greedy decoding. A prompt that fills the
// context is an error wrapping model.ErrContext; bad options wrap
// ErrOptions. Cancelling ctx stops between tokens with ctx's error.
func Generate(ctx context.Context, s Session, prompt []int, o Options) (Result, error) {
	if err := o.check(len(prompt)); err != nil {
		return Result{}, err
	}
	if o.Beams > 1 {
		return beamSearch(ctx, s, prompt, o)
	}
	logits, err := s.Step(prompt)
	if err != nil {
		return Result{}, err
	}
	var smp *sampler
	if o.Temperature > 0 {
		smp = newSampler(&o)
	}
	room := o.room(len(prompt))
	res := Result{Stop: -1}
	scores := make([]float64, len(logits))
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		o.scores(scores, logits, res.Tokens)
		var id int
		if smp != nil {
			id = smp.sample(scores)
		} else {
			id = argmax(scores)
		}
		if id < 0 {
			return res, fmt.Errorf("generate: after %d tokens every token is forbidden (no-repeat %d-grams): %w", len(res.Tokens), o.NoRepeatNGram, ErrOptions)
		}
		res.LogProb += logProb(logits, id)
		if o.isStop(id) {
			res.Stop, res.Reason = id, StopToken
			return res, nil
		}
		res.Tokens = append(res.Tokens, id)
		if o.Emit != nil {
			o.Emit(id)
		}
		if len(res.Tokens) == room {
			res.Reason = MaxTokens
			if room < o.MaxNew {
				res.Reason = ContextFull
			}
			return res, nil
		}
		if logits, err = s.Step([]int{id}); err != nil {
			return res, err
		}
	}
}
