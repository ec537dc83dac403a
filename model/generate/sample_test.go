package generate

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// drawSigmas bounds a frequency's distance from its probability, in
// standard deviations of the binomial: 5σ fails by chance about once in
// 1.7 million checks.
const drawSigmas = 5

func TestSamplerDistribution(t *testing.T) {
	p := []float64{0.1, 0.5, 0.3, 0.1}
	// Hand-computed target distributions.
	sq := []float64{math.Sqrt(0.1), math.Sqrt(0.5), math.Sqrt(0.3), math.Sqrt(0.1)}
	sqSum := sq[0] + sq[1] + sq[2] + sq[3]
	cases := []struct {
		name string
		o    Options
		ban  int // token set to -Inf, or -1
		want []float64
	}{
		{"T=1", Options{Temperature: 1}, -1, p},
		{"T=2", Options{Temperature: 2}, -1, []float64{sq[0] / sqSum, sq[1] / sqSum, sq[2] / sqSum, sq[3] / sqSum}},
		{"T=0.5", Options{Temperature: 0.5}, -1, []float64{0.01 / 0.36, 0.25 / 0.36, 0.09 / 0.36, 0.01 / 0.36}},
		{"top-k 1", Options{Temperature: 1, TopK: 1}, -1, []float64{0, 1, 0, 0}},
		{"top-k 2", Options{Temperature: 1, TopK: 2}, -1, []float64{0, 0.625, 0.375, 0}},
		{"top-k 2, T=2", Options{Temperature: 2, TopK: 2}, -1, []float64{0, sq[1] / (sq[1] + sq[2]), sq[2] / (sq[1] + sq[2]), 0}},
		{"top-k larger than vocab", Options{Temperature: 1, TopK: 10}, -1, p},
		{"top-p 0.5", Options{Temperature: 1, TopP: 0.5}, -1, []float64{0, 1, 0, 0}},
		{"top-p 0.6", Options{Temperature: 1, TopP: 0.6}, -1, []float64{0, 0.625, 0.375, 0}},
		// 0.5+0.3 < 0.85: the next most likely joins; 0 and 3 tie, 0 is first.
		{"top-p 0.85", Options{Temperature: 1, TopP: 0.85}, -1, []float64{0.1 / 0.9, 0.5 / 0.9, 0.3 / 0.9, 0}},
		{"top-k 3 then top-p 0.95", Options{Temperature: 1, TopK: 3, TopP: 0.95}, -1, []float64{0.1 / 0.9, 0.5 / 0.9, 0.3 / 0.9, 0}},
		{"banned token", Options{Temperature: 1}, 1, []float64{0.2, 0, 0.6, 0.2}},
	}
	const draws = 20000
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.o.Seed = 7
			s := newSampler(&c.o)
			counts := make([]int, len(p))
			scores := make([]float64, len(p))
			for range draws {
				for i, v := range p {
					scores[i] = math.Log(v)
				}
				if c.ban >= 0 {
					scores[c.ban] = math.Inf(-1)
				}
				counts[s.sample(scores)]++
			}
			for i, want := range c.want {
				got := float64(counts[i]) / draws
				if want == 0 || want == 1 {
					if got != want {
						t.Errorf("token %d drawn with frequency %v, want exactly %v", i, got, want)
					}
					continue
				}
				if sd := math.Sqrt(want * (1 - want) / draws); math.Abs(got-want) > drawSigmas*sd {
					t.Errorf("token %d drawn with frequency %.4f, want %.4f ± %.4f", i, got, want, drawSigmas*sd)
				}
			}
		})
	}
}

func TestSamplingSeeded(t *testing.T) {
	o := Options{MaxNew: 40, Temperature: 1}
	run := func(seed uint64) []int {
		o.Seed = seed
		return gen(t, byLast(cycle), []int{0}, o).Tokens
	}
	distinct := map[string]bool{}
	for seed := range uint64(5) {
		a, b := run(seed), run(seed)
		if !slices.Equal(a, b) {
			t.Errorf("seed %d: two runs gave %v and %v", seed, a, b)
		}
		distinct[fmt.Sprint(a)] = true
	}
	if len(distinct) < 2 {
		t.Errorf("5 seeds gave %d distinct sequences, want several", len(distinct))
	}
	// Temperature near 0 and top-k 1 both reduce sampling to greedy.
	greedy := gen(t, byLast(cycle), []int{0}, Options{MaxNew: 40}).Tokens
	for _, so := range []Options{{MaxNew: 40, Temperature: 1, TopK: 1, Seed: 3}, {MaxNew: 40, Temperature: 1e-3, Seed: 3}} {
		if got := gen(t, byLast(cycle), []int{0}, so).Tokens; !slices.Equal(got, greedy) {
			t.Errorf("sampling %+v = %v, want greedy %v", so, got, greedy)
		}
	}
}

func TestSamplingFromGenerateUsesSeed(t *testing.T) {
	// The first draw of Generate equals a fresh sampler's first draw.
	o := Options{MaxNew: 1, Temperature: 1, Seed: 42}
	res := gen(t, byLast(cycle), []int{0}, o)
	scores := make([]float64, 4)
	for i, v := range cycle[0] {
		scores[i] = float64(float32(math.Log(v)))
	}
	if want := newSampler(&o).sample(scores); res.Tokens[0] != want {
		t.Errorf("Generate(seed 42) first token %d, a sampler seeded 42 draws %d", res.Tokens[0], want)
	}
}
