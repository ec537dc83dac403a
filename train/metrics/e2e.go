package metrics

// Scores are the E2E challenge's five metrics for one system output.
type Scores struct {
	BLEU   float64 `json:"bleu"`
	NIST   float64 `json:"nist"`
	ROUGEL float64 `json:"rouge_l"`
	CIDEr  float64 `json:"cider"`
	// METEORExact is "METEOR (exact match only)", not official METEOR.
	METEORExact float64 `json:"meteor_exact_match_only"`
}

// E2E scores hyps[i] against refs[i] with every metric of the package
// (METEOR with ClassicMeteor).
func E2E(hyps []string, refs [][]string) (Scores, error) {
	var s Scores
	var err error
	for _, m := range []struct {
		dst *float64
		f   func([]string, [][]string) (float64, error)
	}{
		{&s.BLEU, BLEU}, {&s.NIST, NIST}, {&s.ROUGEL, ROUGEL}, {&s.CIDEr, CIDEr},
		{&s.METEORExact, func(h []string, r [][]string) (float64, error) { return METEORExact(h, r, ClassicMeteor) }},
	} {
		if *m.dst, err = m.f(hyps, refs); err != nil {
			return Scores{}, err
		}
	}
	return s, nil
}
