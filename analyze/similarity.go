package analyze

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/parallel"
	"gonum.org/v1/gonum/mat"
)

// ModuleSimilarity is the subspace similarity of one module present in both
// adapters. Its JSON form is the similarity entry, field for field.
type ModuleSimilarity struct {
	Name  string `json:"name"`
	RankA int    `json:"rank_a"`
	RankB int    `json:"rank_b"`
	// PhiRight[i-1][j-1] = φ(i, j) over the right-singular vectors of the
	// two lora A matrices (the paper's definition); PhiLeft the same over
	// the left-singular vectors of the two lora B matrices.
	PhiRight   [][]float64 `json:"phi_right"`
	PhiLeft    [][]float64 `json:"phi_left"`
	PhiRight11 float64     `json:"phi_right_11"`
	PhiLeft11  float64     `json:"phi_left_11"`
}

// SimilaritySummary holds the summary numbers of one module beside those of
// the random Gaussian control the paper compares against.
type SimilaritySummary struct {
	Name string `json:"name"`
	// TopK is the k of the mean over φ(i, i), i = 1..k.
	TopK          int     `json:"top_k"`
	MeanDiagRight float64 `json:"mean_diag_right"`
	MeanDiagLeft  float64 `json:"mean_diag_left"`
	// Expected values for independent random subspaces: φ(1,1) = 1/n and
	// the mean over the diagonal of i/n (n = in for A, out for B).
	ExpectedRight11       float64 `json:"expected_random_right_11"`
	ExpectedLeft11        float64 `json:"expected_random_left_11"`
	ExpectedMeanDiagRight float64 `json:"expected_random_mean_diag_right"`
	ExpectedMeanDiagLeft  float64 `json:"expected_random_mean_diag_left"`
	// Sampled control: the same statistics for Gaussian A and B of the same
	// shapes and ranks (one draw per shape, seeded).
	RandomRight11       float64 `json:"random_phi_right_11"`
	RandomLeft11        float64 `json:"random_phi_left_11"`
	RandomMeanDiagRight float64 `json:"random_mean_diag_right"`
	RandomMeanDiagLeft  float64 `json:"random_mean_diag_left"`
}

// Similarity is the similarity report of two adapters. Its "modules" list is
// the JSON shape; summaries with controls and skips follow.
type Similarity struct {
	Modules []ModuleSimilarity  `json:"modules"`
	Summary []SimilaritySummary `json:"summary"`
	Skipped []Skip              `json:"skipped,omitempty"`
}

// CompareOptions tunes Compare. The zero value is ready to use.
type CompareOptions struct {
	// TopK is the k of the mean top-k diagonal; 0 means min(rank_a, rank_b).
	TopK int
	// Seed seeds the Gaussian control (with the shape, so it is
	// deterministic and shared by modules of one shape).
	Seed uint64
	// NoControl skips drawing the Gaussian control.
	NoControl bool
}

// CompareModule computes φ grids for one module of two adapters (different
// ranks, seeds or runs on the same base). It fails with format.ErrShape
// when ΔW's shapes differ (adapters of different bases).
func CompareModule(a, b Module) (ModuleSimilarity, error) {
	if err := a.Validate(); err != nil {
		return ModuleSimilarity{}, fmt.Errorf("adapter A: %w", err)
	}
	if err := b.Validate(); err != nil {
		return ModuleSimilarity{}, fmt.Errorf("adapter B: %w", err)
	}
	if a.Shape() != b.Shape() {
		return ModuleSimilarity{}, fmt.Errorf("analyze: module %q: shape %v in adapter A but %v in adapter B (different bases?): %w",
			a.Name, a.Shape(), b.Shape(), format.ErrShape)
	}
	s, err := phiGrids(a.A, a.B, b.A, b.B)
	if err != nil {
		return ModuleSimilarity{}, fmt.Errorf("analyze: module %q: %w", a.Name, err)
	}
	s.Name, s.RankA, s.RankB = a.Name, a.Rank(), b.Rank()
	return s, nil
}

// phiGrids compares A1 (r1×in) with A2 (r2×in) on the right and B1 (out×r1)
// with B2 (out×r2) on the left.
func phiGrids(a1, b1, a2, b2 mat.Matrix) (ModuleSimilarity, error) {
	var s ModuleSimilarity
	var v [4]basis
	for i, x := range []struct {
		m    mat.Matrix
		side func(mat.Matrix) (basis, error)
	}{{a1, rightBasis}, {a2, rightBasis}, {b1, leftBasis}, {b2, leftBasis}} {
		var err error
		if v[i], err = x.side(x.m); err != nil {
			return s, err
		}
	}
	s.PhiRight = phiFromCross(cross(v[0], v[1]))
	s.PhiLeft = phiFromCross(cross(v[2], v[3]))
	s.PhiRight11, s.PhiLeft11 = s.PhiRight[0][0], s.PhiLeft[0][0]
	return s, nil
}

// Compare computes the subspace similarity of every module the two adapters
// share (matched by name), in parallel, in a's order. Modules in only one
// adapter, or invalid or of different shapes, are listed in Skipped; the
// error is non-nil only when ctx is cancelled or no module could be
// compared (format.ErrNotFound when the adapters share no name).
func Compare(ctx context.Context, a, b []Module, opt CompareOptions) (*Similarity, error) {
	inB := make(map[string]int, len(b))
	for i, m := range b {
		inB[m.Name] = i
	}
	inA := make(map[string]bool, len(a))
	var pairs [][2]Module
	rep := &Similarity{Modules: []ModuleSimilarity{}, Summary: []SimilaritySummary{}}
	for _, m := range a {
		inA[m.Name] = true
		if j, ok := inB[m.Name]; ok {
			pairs = append(pairs, [2]Module{m, b[j]})
		} else {
			rep.Skipped = append(rep.Skipped, Skip{Name: m.Name, Reason: "only in adapter A"})
		}
	}
	for _, m := range b {
		if !inA[m.Name] {
			rep.Skipped = append(rep.Skipped, Skip{Name: m.Name, Reason: "only in adapter B"})
		}
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("analyze: similarity: the adapters share no module (%d and %d modules): %w", len(a), len(b), format.ErrNotFound)
	}

	sims := make([]ModuleSimilarity, len(pairs))
	errs := make([]error, len(pairs))
	if err := parallel.ForEach(ctx, len(pairs), func(i int) {
		sims[i], errs[i] = CompareModule(pairs[i][0], pairs[i][1])
	}); err != nil {
		return nil, fmt.Errorf("analyze: similarity: %w", err)
	}
	var ok []ModuleSimilarity
	for i, s := range sims {
		if errs[i] != nil {
			rep.Skipped = append(rep.Skipped, Skip{Name: pairs[i][0].Name, Reason: errs[i].Error()})
			continue
		}
		ok = append(ok, s)
	}
	if len(ok) == 0 {
		return nil, noModules("similarity", errs)
	}
	shapes := make(map[string][2]int, len(pairs))
	for _, p := range pairs {
		shapes[p[0].Name] = p[0].Shape()
	}
	controls, err := sampleControls(ctx, ok, shapes, opt)
	if err != nil {
		return nil, err
	}
	for _, s := range ok {
		rep.Modules = append(rep.Modules, s)
		rep.Summary = append(rep.Summary, summarize(s, shapes[s.Name], opt, controls))
	}
	return rep, nil
}

// controlKey identifies the shape of a Gaussian control.
type controlKey struct{ out, in, r1, r2 int }

// sampleControls draws one Gaussian control per distinct shape and ranks.
func sampleControls(ctx context.Context, sims []ModuleSimilarity, shape map[string][2]int, opt CompareOptions) (map[controlKey]ModuleSimilarity, error) {
	if opt.NoControl {
		return nil, nil
	}
	var keys []controlKey
	seen := make(map[controlKey]bool)
	for _, s := range sims {
		sh := shape[s.Name]
		k := controlKey{sh[0], sh[1], s.RankA, s.RankB}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	got := make([]ModuleSimilarity, len(keys))
	errs := make([]error, len(keys))
	if err := parallel.ForEach(ctx, len(keys), func(i int) {
		got[i], errs[i] = gaussianControl(keys[i], opt.Seed)
	}); err != nil {
		return nil, fmt.Errorf("analyze: similarity control: %w", err)
	}
	out := make(map[controlKey]ModuleSimilarity, len(keys))
	for i, k := range keys {
		if errs[i] != nil {
			return nil, fmt.Errorf("analyze: similarity control: %w", errs[i])
		}
		out[k] = got[i]
	}
	return out, nil
}

// gaussianControl compares two independent Gaussian adapters of shape k.
func gaussianControl(k controlKey, seed uint64) (ModuleSimilarity, error) {
	rng := rand.New(rand.NewPCG(seed, uint64(k.out)<<40^uint64(k.in)<<20^uint64(k.r1)<<10^uint64(k.r2)))
	return phiGrids(
		gaussian(rng, k.r1, k.in), gaussian(rng, k.out, k.r1),
		gaussian(rng, k.r2, k.in), gaussian(rng, k.out, k.r2))
}

// gaussian returns a rows×cols matrix of independent standard normals.
func gaussian(rng *rand.Rand, rows, cols int) *mat.Dense {
	data := make([]float64, rows*cols)
	for i := range data {
		data[i] = rng.NormFloat64()
	}
	return mat.NewDense(rows, cols, data)
}

// summarize builds the summary numbers of s, of shape [out, in].
func summarize(s ModuleSimilarity, shape [2]int, opt CompareOptions, controls map[controlKey]ModuleSimilarity) SimilaritySummary {
	k := opt.TopK
	if k <= 0 {
		k = min(s.RankA, s.RankB)
	}
	k = min(k, len(s.PhiRight), len(s.PhiRight[0]), len(s.PhiLeft), len(s.PhiLeft[0]))
	out, in := shape[0], shape[1]
	sum := SimilaritySummary{
		Name: s.Name, TopK: k,
		MeanDiagRight:         MeanDiagonal(s.PhiRight, k),
		MeanDiagLeft:          MeanDiagonal(s.PhiLeft, k),
		ExpectedRight11:       ExpectedRandomPhi(1, 1, in),
		ExpectedLeft11:        ExpectedRandomPhi(1, 1, out),
		ExpectedMeanDiagRight: float64(k+1) / 2 / float64(in),
		ExpectedMeanDiagLeft:  float64(k+1) / 2 / float64(out),
	}
	if c, ok := controls[controlKey{out, in, s.RankA, s.RankB}]; ok {
		sum.RandomRight11, sum.RandomLeft11 = c.PhiRight11, c.PhiLeft11
		sum.RandomMeanDiagRight = MeanDiagonal(c.PhiRight, k)
		sum.RandomMeanDiagLeft = MeanDiagonal(c.PhiLeft, k)
	}
	return sum
}
