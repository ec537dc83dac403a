package metrics

import "math"

// MeteorParams are the classic METEOR parameters:
//
//	Fmean = P·R / (α·P + (1−α)·R),  Pen = γ·(chunks/matches)^β,
//	score = Fmean·(1 − Pen)
type MeteorParams struct{ Alpha, Beta, Gamma float64 }

// ClassicMeteor is Lavie & Agarwal (2007)'s original setting, α = 0.9,
// β = 3, γ = 0.5 (Fmean = 10PR/(R+9P), Pen = 0.5·frag³).
var ClassicMeteor = MeteorParams{Alpha: 0.9, Beta: 3, Gamma: 0.5}

// meteorStats are the sufficient statistics of one aligned pair.
type meteorStats struct{ matches, hypLen, refLen, chunks int }

func (s meteorStats) score(p MeteorParams) float64 {
	if s.matches == 0 {
		return 0
	}
	m := float64(s.matches)
	prec, rec := m/float64(s.hypLen), m/float64(s.refLen)
	fmean := prec * rec / (p.Alpha*prec + (1-p.Alpha)*rec)
	frag := float64(s.chunks) / m
	return fmean * (1 - p.Gamma*math.Pow(frag, p.Beta))
}

// METEORExact returns "METEOR (exact match only)": the METEOR formula with
// params on exact (lowercased) unigram matches, texts tokenized with
// CocoTokenize. No stemming, synonyms or paraphrases: it is NOT the
// official METEOR 1.5 score and reads lower.
//
// Each output is aligned to each reference: every word is matched one to
// one as often as it occurs in both (the maximum number of matches);
// among the occurrences of a word, a hypothesis word takes the reference
// position that continues the previous match, else the one that starts the
// longest run of further matches (METEOR's beam search minimizes chunks;
// this greedy choice finds the same alignment on ordinary sentences). The
// reference giving the best score is kept, and, as METEOR aggregates a
// corpus, matches, lengths and chunks are summed over outputs before the
// formula is applied once.
func METEORExact(hyps []string, refs [][]string, params MeteorParams) (float64, error) {
	if err := check(hyps, refs); err != nil {
		return 0, err
	}
	var tot meteorStats
	for i, h := range hyps {
		hw := CocoTokenize(h)
		var best meteorStats
		bestScore := -1.0
		for _, r := range refs[i] {
			s := align(hw, CocoTokenize(r))
			if sc := s.score(params); sc > bestScore {
				best, bestScore = s, sc
			}
		}
		tot.matches += best.matches
		tot.hypLen += best.hypLen
		tot.refLen += best.refLen
		tot.chunks += best.chunks
	}
	return tot.score(params), nil
}

// align matches h to r word for word and counts chunks: runs of matches
// adjacent in both texts.
func align(h, r []string) meteorStats {
	s := meteorStats{hypLen: len(h), refLen: len(r)}
	used := make([]bool, len(r))
	prev := -2                  // reference position of the previous hypothesis word's match
	run := func(i, j int) int { // matches h[i:], r[j:] word for word, free positions only
		k := 0
		for i+k < len(h) && j+k < len(r) && !used[j+k] && h[i+k] == r[j+k] {
			k++
		}
		return k
	}
	for i, w := range h {
		pick := -1
		if prev >= 0 && prev+1 < len(r) && !used[prev+1] && r[prev+1] == w {
			pick = prev + 1
		} else {
			bestRun := 0
			for j := range r {
				if !used[j] && r[j] == w {
					if k := run(i, j); k > bestRun {
						pick, bestRun = j, k
					}
				}
			}
		}
		if pick < 0 {
			prev = -2
			continue
		}
		used[pick] = true
		s.matches++
		if prev < 0 || pick != prev+1 {
			s.chunks++
		}
		prev = pick
	}
	return s
}
