package analyze

import (
	"context"
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"gonum.org/v1/gonum/mat"
)

// perExpert returns m's experts as plain modules named "<name>[e]" (m
// itself when it is not stacked), so that spectra and similarity are
// reported per expert.
func perExpert(m *lora.Module) []*lora.Module {
	if m.Experts == 0 {
		return []*lora.Module{m}
	}
	out := make([]*lora.Module, m.Experts)
	for e := range m.Experts {
		out[e] = m.Expert(e)
	}
	return out
}

// ExpertSimilarity says how alike the updates ΔW_e = s·B_e·A_e of one
// stacked module's experts are to each other.
type ExpertSimilarity struct {
	// Module is the stacked module's name; Experts its expert count.
	Module  string `json:"module"`
	Experts int    `json:"experts"`
	// Ranks are each expert's numerical rank (0: the expert has no update).
	Ranks []int `json:"ranks"`
	// Phi[e][f] = ‖U_eᵀU_f‖²_F / min(k_e, k_f): the subspace similarity of
	// the paper's Section 7.2 between the k_e and k_f leading left-singular
	// directions (the output directions each expert writes), 1 on the
	// diagonal, 0 where an expert has no update.
	Phi [][]float64 `json:"phi"`
	// Cosine[e][f] = ⟨ΔW_e, ΔW_f⟩_F / (‖ΔW_e‖_F·‖ΔW_f‖_F): 1 for the same
	// update, -1 for its negation, 0 for unrelated ones (and no update).
	Cosine [][]float64 `json:"cosine"`
	// MeanPhi and MeanCosine average Phi and Cosine over the pairs e ≠ f
	// of experts that have an update; RandomPhi is E[φ] for random
	// subspaces of the same dimensions (k/out), the baseline to read
	// MeanPhi against.
	MeanPhi    float64 `json:"mean_phi"`
	MeanCosine float64 `json:"mean_cosine"`
	RandomPhi  float64 `json:"random_phi"`
}

// CompareExperts compares the experts of every stacked module of a, in
// adapter order; plain modules are skipped. ctx is checked between
// modules.
func CompareExperts(ctx context.Context, a *lora.Adapter) ([]ExpertSimilarity, error) {
	var out []ExpertSimilarity
	for _, m := range a.Modules {
		if m.Experts == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := CompareExpertsOf(m)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, nil
}

// CompareExpertsOf compares the experts of one stacked module. Each
// expert's ΔW_e is factored without being formed (LowRank); inner products
// use ⟨B_eA_e, B_fA_f⟩_F = tr((B_eᵀB_f)(A_fA_eᵀ)), r×r products.
func CompareExpertsOf(m *lora.Module) (*ExpertSimilarity, error) {
	if m.Experts == 0 {
		return nil, fmt.Errorf("analyze: module %q does not stack experts: %w", m.Name, format.ErrShape)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	E := m.Experts
	s := &ExpertSimilarity{Module: m.Name, Experts: E, Ranks: make([]int, E), Phi: square(E), Cosine: square(E)}
	us := make([]*mat.Dense, E)
	as, bs := make([]*mat.Dense, E), make([]*mat.Dense, E)
	norms := make([]float64, E)
	for e, x := range perExpert(m) {
		as[e], bs[e] = mat.NewDense(x.Rank, x.In, widen(x.A)), mat.NewDense(x.Out, x.Rank, widen(x.B))
		mod := Module{Name: x.Name, A: as[e], B: bs[e], Scale: x.Scale()}
		f, err := LowRank(mod)
		if err != nil {
			return nil, err
		}
		k := 0
		tol := NumericalTolerance(f.Values, x.Out, x.In)
		for _, v := range f.Values {
			if v > tol {
				k++
			}
		}
		s.Ranks[e] = k
		if k > 0 {
			us[e] = mat.DenseCopyOf(f.U.Slice(0, x.Out, 0, k))
		}
		for _, v := range f.Values {
			norms[e] += v * v
		}
		norms[e] = math.Sqrt(norms[e])
	}
	var sumPhi, sumCos, sumK float64
	pairs, active := 0, 0
	for e := range E {
		if s.Ranks[e] > 0 {
			active++
			sumK += float64(s.Ranks[e])
		}
		for f := range E {
			if s.Ranks[e] == 0 || s.Ranks[f] == 0 {
				continue
			}
			var cross mat.Dense
			cross.Mul(us[e].T(), us[f])
			var ss float64
			for _, v := range cross.RawMatrix().Data {
				ss += v * v
			}
			s.Phi[e][f] = clamp01(ss / float64(min(s.Ranks[e], s.Ranks[f])))
			var bb, aa, p mat.Dense
			bb.Mul(bs[e].T(), bs[f]) // (r, r)
			aa.Mul(as[f], as[e].T()) // (r, r)
			p.Mul(&bb, &aa)
			dot := m.Scale() * m.Scale() * mat.Trace(&p)
			s.Cosine[e][f] = max(-1, min(1, dot/(norms[e]*norms[f])))
			if e != f {
				sumPhi += s.Phi[e][f]
				sumCos += s.Cosine[e][f]
				pairs++
			}
		}
	}
	if pairs > 0 {
		s.MeanPhi, s.MeanCosine = sumPhi/float64(pairs), sumCos/float64(pairs)
	}
	if active > 0 {
		s.RandomPhi = sumK / float64(active) / float64(m.Out)
	}
	return s, nil
}

func square(n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, n)
	}
	return out
}

// expand lists modules with each stacked module replaced by its experts.
func expand(mods []*lora.Module) []*lora.Module {
	out := make([]*lora.Module, 0, len(mods))
	for _, m := range mods {
		out = append(out, perExpert(m)...)
	}
	return out
}
