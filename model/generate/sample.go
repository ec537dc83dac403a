package generate

import (
	"math"
	"math/rand/v2"
	"slices"
)

// sampler draws tokens from the softmax of scores at a temperature, after
// the top-k and top-p cuts, in the order Hugging Face's samplers apply
// them: temperature, then top-k, then top-p.
type sampler struct {
	rng  *rand.Rand
	temp float64
	topK int
	topP float64
	ids  []int     // candidate ids, most likely first when cut
	p    []float64 // their unnormalised probabilities
}

// newSampler returns a sampler seeded with PCG(seed, 0).
func newSampler(o *Options) *sampler {
	return &sampler{rng: rand.New(rand.NewPCG(o.Seed, 0)), temp: o.Temperature, topK: o.TopK, topP: o.TopP}
}

// sample returns a token id drawn from scores (V values, -Inf for
// forbidden tokens), or -1 when every token is forbidden.
func (s *sampler) sample(scores []float64) int {
	s.ids, s.p = s.ids[:0], s.p[:0]
	m := math.Inf(-1)
	for id, v := range scores {
		if !math.IsInf(v, -1) {
			s.ids = append(s.ids, id)
			m = max(m, v)
		}
	}
	if len(s.ids) == 0 {
		return -1
	}
	cut := (s.topK > 0 && s.topK < len(s.ids)) || (s.topP > 0 && s.topP < 1)
	if cut {
		// Most likely first; equal scores by id, so the order is total.
		slices.SortFunc(s.ids, func(a, b int) int {
			if scores[a] != scores[b] {
				if scores[a] > scores[b] {
					return -1
				}
				return 1
			}
			return a - b
		})
		if s.topK > 0 && s.topK < len(s.ids) {
			s.ids = s.ids[:s.topK]
		}
	}
	var total float64
	for _, id := range s.ids {
		p := math.Exp((scores[id] - m) / s.temp)
		s.p = append(s.p, p)
		total += p
	}
	if cut && s.topP > 0 && s.topP < 1 {
		// Keep the shortest prefix whose probability reaches topP.
		var cum float64
		for i, p := range s.p {
			cum += p
			if cum >= s.topP*total {
				s.ids, s.p, total = s.ids[:i+1], s.p[:i+1], cum
				break
			}
		}
	}
	r := s.rng.Float64() * total
	for i, p := range s.p {
		if r < p {
			return s.ids[i]
		}
		r -= p
	}
	return s.ids[len(s.ids)-1] // rounding left r just above the last p
}
