package metrics

// rougeBeta weighs recall over precision in ROUGE-L's F (pycocoevalcap).
const rougeBeta = 1.2

// ROUGEL returns ROUGE-L as pycocoevalcap computes it, averaged over the
// outputs, texts tokenized with CocoTokenize. Per output, with LCS the
// longest common subsequence of words:
//
//	P = max over references of LCS/|output|, R = max of LCS/|reference|
//	F = (1+β²)·P·R / (R + β²·P), β = 1.2 (0 when P or R is 0)
//
// P and R are maximised separately, possibly over different references,
// as pycocoevalcap does.
func ROUGEL(hyps []string, refs [][]string) (float64, error) {
	if err := check(hyps, refs); err != nil {
		return 0, err
	}
	var sum float64
	for i, h := range hyps {
		hw := CocoTokenize(h)
		var p, r float64
		for _, ref := range refs[i] {
			rw := CocoTokenize(ref)
			l := float64(lcs(hw, rw))
			if len(hw) > 0 {
				p = max(p, l/float64(len(hw)))
			}
			if len(rw) > 0 {
				r = max(r, l/float64(len(rw)))
			}
		}
		if p > 0 && r > 0 {
			b2 := rougeBeta * rougeBeta
			sum += (1 + b2) * p * r / (r + b2*p)
		}
	}
	return sum / float64(len(hyps)), nil
}

// lcs returns the length of the longest common subsequence of a and b.
func lcs(a, b []string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(cur[j], prev[j+1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
