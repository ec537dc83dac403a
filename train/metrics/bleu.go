package metrics

import "math"

// bleuN is BLEU's largest n-gram order.
const bleuN = 4

// BLEU returns corpus BLEU-4 as mteval-v13a.pl computes it (its default,
// smoothed, closest-reference-length variant), hyps[i] scored against
// refs[i]. Texts are tokenized with MtevalTokenize.
//
// Per output, matches are n-gram counts clipped by their largest count in
// any one reference, and the reference length is the one closest to the
// output's (ties to the shorter; empty references are skipped after the
// first, as mteval's padding of missing references requires). Over the
// corpus, with c = total output words and r = total reference length:
//
//	BLEU = exp(min(0, 1 − r/c)) · exp(¼ Σₙ log pₙ)
//
// where pₙ = matchesₙ/countₙ; mteval's smoothing replaces a zero match
// count by 1/2ᵏ (k counting the zero orders so far) and takes pₙ = 1 when
// the outputs have no n-grams of that order.
func BLEU(hyps []string, refs [][]string) (float64, error) {
	if err := check(hyps, refs); err != nil {
		return 0, err
	}
	var match, total [bleuN + 1]int
	refLen, hypLen := 0, 0
	for i, h := range hyps {
		hw := MtevalTokenize(h)
		hypLen += len(hw)
		for n := 1; n <= bleuN; n++ {
			total[n] += max(0, len(hw)-n+1)
		}
		maxRef := map[string]int{}
		closest := -1
		for _, r := range refs[i] {
			rw := MtevalTokenize(r)
			closest = closestLength(closest, len(rw), len(hw))
			for g, c := range ngrams(rw, bleuN) {
				maxRef[g] = max(maxRef[g], c)
			}
		}
		refLen += closest
		for g, c := range ngrams(hw, bleuN) {
			match[order(g)] += min(c, maxRef[g])
		}
	}
	if hypLen == 0 {
		return 0, nil
	}
	var logSum float64
	smooth := 1.0
	for n := 1; n <= bleuN; n++ {
		switch {
		case total[n] == 0:
		case match[n] == 0:
			smooth *= 2
			logSum += math.Log(1 / (smooth * float64(total[n])))
		default:
			logSum += math.Log(float64(match[n]) / float64(total[n]))
		}
	}
	bp := math.Exp(min(0, 1-float64(refLen)/float64(hypLen)))
	return math.Exp(logSum/bleuN) * bp, nil
}

// closestLength is mteval's brevity_penalty_closest fold: cur is the
// length chosen so far (−1 before the first reference), ref the next
// reference's length, hyp the output's.
func closestLength(cur, ref, hyp int) int {
	switch {
	case cur < 0:
		return ref
	case ref == 0: // mteval skips empty (padding) references
		return cur
	}
	dr, dc := abs(hyp-ref), abs(hyp-cur)
	if dr < dc || (dr == dc && ref < cur) {
		return ref
	}
	return cur
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
