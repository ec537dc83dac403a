package generate

import (
	"math"
	"slices"
)

// scores turns a step's logits into the float64 scores a decoder chooses
// from, with the tokens the options forbid at this point set to -Inf:
// n-grams that would repeat among the generated tokens, and stop tokens
// before MinNew tokens. generated is the sequence so far, prompt excluded.
//
//	logits (V) -> dst (V)
func (o *Options) scores(dst []float64, logits []float32, generated []int) {
	for i, l := range logits {
		dst[i] = float64(l)
	}
	ban := func(id int) {
		if id >= 0 && id < len(dst) {
			dst[id] = math.Inf(-1)
		}
	}
	if len(generated) < o.MinNew {
		for _, id := range o.Stop {
			ban(id)
		}
	}
	if o.NoRepeatNGram > 0 {
		for _, id := range bannedNGram(generated, o.NoRepeatNGram) {
			ban(id)
		}
	}
}

// bannedNGram returns the tokens that would complete an n-gram already
// present in seq: for each earlier occurrence of seq's last n-1 tokens, the
// token that followed it (fairseq's rule, which loralib's
// _calc_banned_ngram_tokens copies). With fewer than n-1 tokens nothing is
// banned; n = 1 bans every token seen.
func bannedNGram(seq []int, n int) []int {
	k := n - 1 // length of the prefix that must match
	if len(seq) < k {
		return nil
	}
	tail := seq[len(seq)-k:]
	var out []int
	for i := 0; i+n <= len(seq); i++ {
		if slices.Equal(seq[i:i+k], tail) {
			out = append(out, seq[i+k])
		}
	}
	return out
}

// argmax returns the index of the largest finite score, the lowest index
// on ties (as numpy and llama2.c do), or -1 when every score is -Inf.
func argmax(s []float64) int {
	best := -1
	for i, v := range s {
		if !math.IsInf(v, -1) && (best < 0 || v > s[best]) {
			best = i
		}
	}
	return best
}

// logSumExp returns log Σ exp(s_i) over the finite scores (-Inf if none).
func logSumExp(s []float64) float64 {
	m := math.Inf(-1)
	for _, v := range s {
		m = max(m, v)
	}
	if math.IsInf(m, -1) {
		return m
	}
	var sum float64
	for _, v := range s {
		sum += math.Exp(v - m)
	}
	return m + math.Log(sum)
}

// logProb returns log softmax(logits)[id], computed in float64.
func logProb(logits []float32, id int) float64 {
	m := math.Inf(-1)
	for _, l := range logits {
		m = max(m, float64(l))
	}
	var sum float64
	for _, l := range logits {
		sum += math.Exp(float64(l) - m)
	}
	return float64(logits[id]) - m - math.Log(sum)
}
