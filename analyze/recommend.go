package analyze

import (
	"fmt"
	"math"
	"strconv"
)

// Default targets of Recommend: keep 99% of each module's energy, and choose
// the adapter rank that does so for at least 90% of the modules.
const (
	DefaultEnergy   = Energy99
	DefaultCoverage = 0.90
)

// ModuleRank is the rank recommended for one module: the smallest rank whose
// top singular values keep the target energy.
type ModuleRank struct {
	Name        string `json:"name"`
	Rank        int    `json:"rank"`
	Recommended int    `json:"recommended"`
}

// RankChoice says how many modules a candidate adapter rank serves.
type RankChoice struct {
	Rank     int     `json:"rank"`
	Covered  int     `json:"covered"`
	Fraction float64 `json:"fraction"`
}

// Recommendation is the rank advice for an adapter.
type Recommendation struct {
	// Energy is the fraction of ‖ΔW‖_F² a rank must keep.
	Energy float64 `json:"energy"`
	// Coverage is the fraction of modules the adapter rank must serve.
	Coverage float64 `json:"coverage"`
	// Rank is the smallest candidate serving Coverage of the modules.
	Rank int `json:"rank"`
	// Candidates are the powers of two up to the largest module rank (and
	// that rank itself), each with the modules it serves.
	Candidates []RankChoice `json:"candidates"`
	Modules    []ModuleRank `json:"modules"`
	// Summary is one sentence, e.g. "r=4 keeps 99% of the energy in 92% of
	// modules (47 of 51)".
	Summary string `json:"summary"`
}

// Recommend derives rank advice from a spectrum: per module, the smallest
// rank keeping energy (a fraction in (0, 1]) of its ‖ΔW‖_F²; for the
// adapter, the smallest candidate rank that does so in at least coverage of
// the modules. A zero update needs rank 0 and is served by every rank.
func Recommend(s *Spectrum, energy, coverage float64) Recommendation {
	rec := Recommendation{Energy: energy, Coverage: coverage, Modules: []ModuleRank{}, Candidates: []RankChoice{}}
	maxRank := 0
	for _, m := range s.Modules {
		need := energyRank(m.SingularValues, energy)
		rec.Modules = append(rec.Modules, ModuleRank{Name: m.Name, Rank: m.Rank, Recommended: need})
		maxRank = max(maxRank, m.Rank)
	}
	n := len(rec.Modules)
	if n == 0 {
		rec.Summary = "no modules"
		return rec
	}
	for r := 1; ; r *= 2 {
		r = min(r, maxRank)
		c := RankChoice{Rank: r}
		for _, m := range rec.Modules {
			if m.Recommended <= r {
				c.Covered++
			}
		}
		c.Fraction = float64(c.Covered) / float64(n)
		rec.Candidates = append(rec.Candidates, c)
		if rec.Rank == 0 && c.Fraction >= coverage {
			rec.Rank = r
		}
		if r >= maxRank {
			break
		}
	}
	if rec.Rank == 0 {
		rec.Rank = maxRank
	}
	for _, c := range rec.Candidates {
		if c.Rank == rec.Rank {
			rec.Summary = fmt.Sprintf("r=%d keeps %s of the energy in %s of modules (%d of %d)",
				c.Rank, percent(energy), percent(c.Fraction), c.Covered, n)
		}
	}
	return rec
}

// percent formats a fraction as a percentage with at most one decimal,
// rounded down so that 199 of 200 never reads as 100%.
func percent(x float64) string {
	p := math.Floor(x*1000+1e-9) / 10
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}
