package metrics

import (
	"maps"
	"math"
	"slices"
)

// nistN is NIST's largest n-gram order.
const nistN = 5

// nistBeta makes the length penalty 0.5 at a length ratio of 2/3:
// β = −ln 0.5 / ln² 1.5.
var nistBeta = -math.Log(0.5) / (math.Log(1.5) * math.Log(1.5))

// NIST returns corpus NIST-5 as mteval-v13a.pl computes it, hyps[i]
// scored against refs[i], texts tokenized with MtevalTokenize.
//
// Information weights come from all references of the corpus:
// info(w₁..wₙ) = log₂(count(w₁..wₙ₋₁) / count(w₁..wₙ)), the count of the
// empty prefix being the total number of reference words. Matched n-grams
// (clipped by their largest count in one reference) earn their weight:
//
//	NIST = Σₙ (Σ info of matched n-grams / output n-grams) · BP
//	BP   = exp(−β · ln²(c / L̄)) for c < L̄, else 1
//
// c is the total output length and L̄ the total reference length divided
// by the number of reference sets, which the E2E scorer makes the largest
// number of references of any output (it pads the others with empty ones).
// pymteval, the scorer's Python port, averages per output instead.
//
// mteval's Perl tests the prefix string for truth, so a prefix that is the
// single word "0" counts as empty; that quirk is kept.
func NIST(hyps []string, refs [][]string) (float64, error) {
	if err := check(hyps, refs); err != nil {
		return 0, err
	}
	hypWords := make([][]string, len(hyps))
	refGrams := make([][]map[string]int, len(refs))
	w := nistWeights{count: map[string]int{}}
	sets := 0
	for i := range refs {
		sets = max(sets, len(refs[i]))
		refGrams[i] = make([]map[string]int, len(refs[i]))
		for j, r := range refs[i] {
			refGrams[i][j] = w.add(MtevalTokenize(r))
		}
		hypWords[i] = MtevalTokenize(hyps[i])
	}

	var gain [nistN + 1]float64
	var total [nistN + 1]int
	hypLen := 0
	for i, hw := range hypWords {
		hypLen += len(hw)
		for n := 1; n <= nistN; n++ {
			total[n] += max(0, len(hw)-n+1)
		}
		maxRef := map[string]int{}
		for _, rg := range refGrams[i] {
			for g, c := range rg {
				maxRef[g] = max(maxRef[g], c)
			}
		}
		// Sum in sorted n-gram order: the score is the same bits every run.
		hg := ngrams(hw, nistN)
		for _, g := range slices.Sorted(maps.Keys(hg)) {
			if m := min(hg[g], maxRef[g]); m > 0 {
				gain[order(g)] += w.info(g) * float64(m)
			}
		}
	}
	if hypLen == 0 {
		// No output words: nothing matched, and the length ratio would be
		// 0/0 when the references are empty too (mteval divides by zero).
		return 0, nil
	}
	var score float64
	for n := 1; n <= nistN; n++ {
		score += gain[n] / float64(max(total[n], 1))
	}
	return score * nistPenalty(float64(hypLen)/(float64(w.total)/float64(sets))), nil
}

// nistWeights holds the reference n-gram counts behind NIST's information
// weights: count of every reference n-gram (n ≤ nistN) over the corpus and
// total, the number of reference words.
type nistWeights struct {
	count map[string]int
	total int
}

// add counts one reference's words and returns its n-gram counts.
func (w *nistWeights) add(words []string) map[string]int {
	w.total += len(words)
	g := ngrams(words, nistN)
	for k, c := range g {
		w.count[k] += c
	}
	return g
}

// info is the information weight of the reference n-gram g:
// log₂(count(prefix) / count(g)), the empty prefix counting total. A prefix
// that is the single word "0" counts as empty (mteval's Perl truth test).
func (w *nistWeights) info(g string) float64 {
	prefix := ""
	if k := lastSpace(g); k >= 0 {
		prefix = g[:k]
	}
	den := w.total
	if prefix != "" && prefix != "0" {
		den = w.count[prefix]
	}
	return -math.Log(float64(w.count[g])/float64(den)) / math.Ln2
}

// nistPenalty is mteval's nist_length_penalty.
func nistPenalty(ratio float64) float64 {
	switch {
	case ratio >= 1:
		return 1
	case ratio <= 0:
		return 0
	}
	l := math.Log(ratio)
	return math.Exp(-nistBeta * l * l)
}

func lastSpace(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ' ' {
			return i
		}
	}
	return -1
}
