package metrics

import (
	"maps"
	"math"
	"slices"
)

// CIDEr-D's constants in pycocoevalcap.
const (
	ciderN     = 4
	ciderSigma = 6.0
)

// tfidf is one text's CIDEr vector: per order, n-gram → tf·idf, the
// vector's norm, and the text's length as pycocoevalcap measures it (the
// number of bigrams).
type tfidf struct {
	vec    [ciderN]map[string]float64
	norm   [ciderN]float64
	length int
}

// CIDEr returns CIDEr-D as pycocoevalcap's Cider scorer computes it,
// averaged over outputs, texts tokenized with CocoTokenize.
//
// Document frequency df(g) is the number of outputs whose references
// contain g; idf(g) = ln(N) − ln(max(1, df(g))) with N the number of
// outputs. Per output h and reference r, for each order n = 1..4:
//
//	simₙ = Σ_g min(hₙ(g), rₙ(g))·rₙ(g) / (‖hₙ‖·‖rₙ‖) · exp(−(ℓ_h − ℓ_r)²/(2σ²))
//
// with tf·idf vectors hₙ, rₙ, σ = 6 and ℓ the number of bigrams (what
// pycocoevalcap's counts2vec calls length). The output's score is
// 10 · mean over n of simₙ, averaged over its references.
func CIDEr(hyps []string, refs [][]string) (float64, error) {
	if err := check(hyps, refs); err != nil {
		return 0, err
	}
	refCounts := make([][]map[string]int, len(refs))
	df := map[string]int{}
	for i := range refs {
		seen := map[string]bool{}
		for _, r := range refs[i] {
			c := ngrams(CocoTokenize(r), ciderN)
			refCounts[i] = append(refCounts[i], c)
			for g := range c {
				seen[g] = true
			}
		}
		for g := range seen {
			df[g]++
		}
	}
	logN := math.Log(float64(len(hyps)))
	vector := func(c map[string]int) tfidf {
		var t tfidf
		for n := range t.vec {
			t.vec[n] = map[string]float64{}
		}
		// Sorted n-gram order throughout: the score is the same bits every run.
		for _, g := range slices.Sorted(maps.Keys(c)) {
			tf := c[g]
			n := order(g) - 1
			w := float64(tf) * (logN - math.Log(max(1, float64(df[g]))))
			t.vec[n][g] = w
			t.norm[n] += w * w
			if n == 1 {
				t.length += tf
			}
		}
		for n := range t.norm {
			t.norm[n] = math.Sqrt(t.norm[n])
		}
		return t
	}
	var sum float64
	for i, h := range hyps {
		hv := vector(ngrams(CocoTokenize(h), ciderN))
		var score float64
		for _, rc := range refCounts[i] {
			rv := vector(rc)
			delta := float64(hv.length - rv.length)
			penalty := math.Exp(-delta * delta / (2 * ciderSigma * ciderSigma))
			for n := 0; n < ciderN; n++ {
				var val float64
				for _, g := range slices.Sorted(maps.Keys(hv.vec[n])) {
					w, rw := hv.vec[n][g], rv.vec[n][g]
					val += min(w, rw) * rw
				}
				if hv.norm[n] != 0 && rv.norm[n] != 0 {
					val /= hv.norm[n] * rv.norm[n]
				}
				score += val * penalty
			}
		}
		sum += 10 * score / ciderN / float64(len(refCounts[i]))
	}
	return sum / float64(len(hyps)), nil
}
