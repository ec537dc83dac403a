package generate

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/lorakit/lorakit/internal/parallel"
)

// beam is one hypothesis of beam search.
type beam struct {
	s      Session
	tokens []int     // generated so far, prompt excluded
	score  float64   // Σ log p under the constrained distribution (ranking)
	logp   float64   // Σ log p under the model's plain distribution
	logits []float32 // predicting the next token
}

// candidate is one extension of a live beam.
type candidate struct {
	beam, id int
	score    float64
}

// better orders candidates: higher score, then lower beam, then lower id.
func better(a, b candidate) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if a.beam != b.beam {
		return a.beam < b.beam
	}
	return a.id < b.id
}

// beamSearch is loralib's beam decoding (gpt2_beam.py, function beam):
//
//   - at step 0 only the prompt's beam extends; afterwards each of the K
//     live beams adds log softmax of its constrained scores, and the K best
//     (beam, token) pairs over all beams become the new beams;
//   - a beam that ends in a stop token is finished: its score divided by
//     len^LengthPenalty (len counting the stop token) competes for the
//     result, and it leaves the beam (loralib sets its score to -Inf);
//   - decoding runs for MaxNew steps (or until the context is full), then
//     the live beams compete likewise, normalised by their length.
//
// The best normalised score wins, the first found on ties.
func beamSearch(ctx context.Context, s Session, prompt []int, o Options) (Result, error) {
	logits, err := s.Step(prompt)
	if err != nil {
		return Result{}, err
	}
	K := o.Beams
	room := o.room(len(prompt))
	live := []*beam{{s: s, logits: logits}}
	best := Result{Score: math.Inf(-1), Stop: -1}
	found := false
	consider := func(b *beam, stop int, why Reason) {
		n := len(b.tokens)
		if stop >= 0 {
			n++
		}
		sc := b.score / math.Pow(float64(n), o.LengthPenalty)
		if !found || sc > best.Score {
			found = true
			best = Result{Tokens: b.tokens, Stop: stop, Reason: why, LogProb: b.logp, Score: sc}
		}
	}
	scores := make([]float64, len(logits))
	var cands []candidate
	for step := 0; step < room && len(live) > 0; step++ {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		cands = cands[:0]
		for bi, b := range live {
			o.scores(scores, b.logits, b.tokens)
			lse := logSumExp(scores)
			cands = topCandidates(cands, scores, bi, b.score-lse, K)
		}
		slices.SortFunc(cands, func(a, b candidate) int {
			if better(a, b) {
				return -1
			}
			return 1
		})
		cands = cands[:min(K, len(cands))]

		// Children that continue need a session: the last child of a
		// parent takes the parent's, the others fork it.
		uses := make([]int, len(live))
		for _, c := range cands {
			if !o.isStop(c.id) {
				uses[c.beam]++
			}
		}
		var next []*beam
		for _, c := range cands {
			p := live[c.beam]
			nb := &beam{
				tokens: append(slices.Clip(p.tokens), c.id),
				score:  c.score,
				logp:   p.logp + logProb(p.logits, c.id),
			}
			if o.isStop(c.id) {
				nb.tokens = nb.tokens[:len(nb.tokens)-1]
				consider(nb, c.id, StopToken)
				continue
			}
			if uses[c.beam]--; uses[c.beam] == 0 {
				nb.s = p.s
			} else {
				nb.s = p.s.Fork()
			}
			next = append(next, nb)
		}
		live = next
		if step+1 < room {
			if err := stepAll(ctx, live); err != nil {
				return Result{}, err
			}
		}
	}
	why := MaxTokens
	if room < o.MaxNew {
		why = ContextFull
	}
	for _, b := range live {
		consider(b, -1, why)
	}
	if !found {
		return Result{}, fmt.Errorf("generate: every token is forbidden at the first step: %w", ErrOptions)
	}
	if o.Emit != nil {
		for _, id := range best.Tokens {
			o.Emit(id)
		}
	}
	return best, nil
}

// topCandidates appends to dst the k best finite extensions of beam bi,
// scored base + scores[id], keeping dst's new part sorted best first.
func topCandidates(dst []candidate, scores []float64, bi int, base float64, k int) []candidate {
	start := len(dst)
	for id, v := range scores {
		if math.IsInf(v, -1) {
			continue
		}
		c := candidate{beam: bi, id: id, score: base + v}
		top := dst[start:]
		if len(top) == k && !better(c, top[k-1]) {
			continue
		}
		if len(top) < k {
			dst = append(dst, c)
			top = dst[start:]
		}
		// Insert c in order, dropping the worst when full.
		i := len(top) - 1
		for ; i > 0 && better(c, top[i-1]); i-- {
			top[i] = top[i-1]
		}
		top[i] = c
	}
	return dst
}

// stepAll feeds each beam its last token, beams in parallel (each beam's
// session is its own); a panic in a step reaches the caller. It returns
// the error of the first beam (in order) that failed, or ctx's error when
// ctx is done before every beam was stepped.
func stepAll(ctx context.Context, beams []*beam) error {
	errs := make([]error, len(beams))
	if err := parallel.ForEach(ctx, len(beams), func(i int) {
		b := beams[i]
		b.logits, errs[i] = b.s.Step(b.tokens[len(b.tokens)-1:])
	}); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
