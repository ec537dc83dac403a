package analyze

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/lorakit/lorakit/format"
	"gonum.org/v1/gonum/mat"
)

// BaseFunc supplies the base weight W (out×in, the orientation of ΔW) of a
// module, by the module's name: Base.Stream, which reads it from a
// checkpoint a band of rows at a time, or DenseWeight of a matrix. It is
// called once per module, one at a time. An error wrapping
// format.ErrNotFound skips the module; any other error stops the analysis.
type BaseFunc func(name string) (Weight, error)

// ModuleAmplification is one row of the paper's Table 7. Its JSON form is
// the amplification entry, field for field.
type ModuleAmplification struct {
	Name        string  `json:"name"`
	Rank        int     `json:"rank"`
	WFrobenius  float64 `json:"w_frobenius"`
	DWFrobenius float64 `json:"dw_frobenius"`
	// ProjDW, ProjW, ProjRandom are ‖UᵀWVᵀ‖_F with U, V the top-r singular
	// vectors of ΔW, of W itself, and of a random matrix.
	ProjDW     float64 `json:"proj_dw"`
	ProjW      float64 `json:"proj_w"`
	ProjRandom float64 `json:"proj_random"`
	// Amplification is ‖ΔW‖_F / ProjDW (0 when ProjDW is 0).
	Amplification float64 `json:"amplification"`
}

// Amplification is the amplification report of an adapter against its base.
type Amplification struct {
	Modules []ModuleAmplification `json:"modules"`
	Skipped []Skip                `json:"skipped,omitempty"`
}

// AmplifyOptions tunes Amplify. The zero value is ready to use.
type AmplifyOptions struct {
	// Oversample is the number of extra random directions of the randomized
	// SVD of W; 0 means max(DefaultOversample, r).
	Oversample int
	// PowerIters is the number of subspace iterations; 0 means
	// DefaultPowerIters, negative means none.
	PowerIters int
	// Seed seeds the random matrix and the randomized SVD (with the module
	// name, so results do not depend on module order).
	Seed uint64
}

func (o AmplifyOptions) withDefaults() AmplifyOptions {
	switch {
	case o.PowerIters == 0:
		o.PowerIters = DefaultPowerIters
	case o.PowerIters < 0:
		o.PowerIters = 0
	}
	return o
}

// AmplifyModule computes the Table 7 row of m against its base weight w
// (out×in) in memory; Amplify does the same for weights it streams. Let r
// be m's rank, U (out×r) and V (in×r) the singular vectors of ΔW; the
// paper's ‖UᵀWVᵀ‖_F (its V is r×in) is ‖Uᵀ·W·V‖_F here.
//
// One product W·[V_ΔW | V_rand | Ω] serves the ΔW row, the random row and
// the start of the randomized SVD of W, whose top-r Ritz vectors give the
// W row; 2·PowerIters+1 more products of W with r+Oversample columns
// follow. W's own row is a slight underestimate where W's spectrum is flat
// (see DefaultPowerIters).
func AmplifyModule(m Module, w *mat.Dense, opt AmplifyOptions) (ModuleAmplification, error) {
	var wt Weight
	if w != nil && !w.IsEmpty() {
		wt = DenseWeight(w)
	}
	return amplify(context.Background(), m, wt, opt)
}

// amplify is AmplifyModule for any Weight: each product is one pass over
// W's rows (see pass), 2·PowerIters+2 passes in all, the first of which
// also checks that W is finite and takes its Frobenius norm. A nil w is
// an empty base weight.
func amplify(ctx context.Context, m Module, w Weight, opt AmplifyOptions) (ModuleAmplification, error) {
	opt = opt.withDefaults()
	f, err := LowRank(m)
	if err != nil {
		return ModuleAmplification{}, err
	}
	shape := m.Shape()
	var out, in int
	if w != nil {
		out, in = w.Dims()
	}
	if out == 0 || in == 0 {
		return ModuleAmplification{}, fmt.Errorf("analyze: module %q: empty base weight: %w", m.Name, format.ErrShape)
	}
	if out != shape[0] || in != shape[1] {
		return ModuleAmplification{}, fmt.Errorf("analyze: module %q: base weight is %d×%d but ΔW is %d×%d: %w",
			m.Name, out, in, shape[0], shape[1], format.ErrShape)
	}

	r := len(f.Values) // min(rank, out, in)
	p := opt.Oversample
	if p <= 0 {
		p = max(DefaultOversample, r)
	}
	k := min(r+p, out, in)
	rng := rand.New(rand.NewPCG(opt.Seed, nameHash(m.Name)))
	uRand := randomOrthonormal(rng, out, r)
	vRand := randomOrthonormal(rng, in, r)
	omega := gaussian(rng, in, k)

	// x (in, 2r+k) -> y = w·x (out, 2r+k), with ‖W‖_F and the check that
	// W is finite on the way.
	x := mat.NewDense(in, 2*r+k, nil)
	x.Slice(0, in, 0, r).(*mat.Dense).Copy(f.V)
	x.Slice(0, in, r, 2*r).(*mat.Dense).Copy(vRand)
	x.Slice(0, in, 2*r, 2*r+k).(*mat.Dense).Copy(omega)
	sw := newPass(ctx, w)
	sw.first = true
	y, err := sw.mulW(x)
	if err != nil {
		return ModuleAmplification{}, fmt.Errorf("analyze: module %q: base weight: %w", m.Name, err)
	}
	sw.first = false

	ritz, err := ritzValues(sw, mat.DenseCopyOf(y.Slice(0, out, 2*r, 2*r+k)), r, opt.PowerIters)
	if err != nil {
		return ModuleAmplification{}, fmt.Errorf("analyze: module %q: base weight: %w", m.Name, err)
	}

	a := ModuleAmplification{
		Name:        m.Name,
		Rank:        m.Rank(),
		WFrobenius:  sw.frobenius(),
		DWFrobenius: frobenius(f.Values),
		ProjDW:      projNorm(f.U, y.Slice(0, out, 0, r)),
		ProjRandom:  projNorm(uRand, y.Slice(0, out, r, 2*r)),
		ProjW:       frobenius(ritz), // = ‖U_rᵀWV_r‖_F, see ritzValues
	}
	if a.ProjDW > 0 {
		a.Amplification = a.DWFrobenius / a.ProjDW
	}
	if !finite(a.WFrobenius, a.DWFrobenius, a.ProjDW, a.ProjW, a.ProjRandom, a.Amplification) {
		return ModuleAmplification{}, fmt.Errorf("analyze: module %q: norms exceed the float64 range: %w", m.Name, format.ErrFormat)
	}
	return a, nil
}

// projNorm is ‖uᵀ·wv‖_F for u (out×r) and wv = W·V (out×r).
func projNorm(u, wv mat.Matrix) float64 {
	var p mat.Dense
	p.Mul(u.T(), wv)
	return mat.Norm(&p, 2)
}

// frobenius is √Σσ² for non-increasing σ, scaled by σ₁ against overflow.
func frobenius(values []float64) float64 {
	if len(values) == 0 || values[0] == 0 {
		return 0
	}
	var e float64
	for _, v := range values {
		e += (v / values[0]) * (v / values[0])
	}
	return values[0] * math.Sqrt(e)
}

// nameHash seeds per-module randomness from the module's name.
func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// Amplify computes the Table 7 rows of every module, asking base for one W
// at a time and streaming it (the products inside use all cores), so
// memory stays at a band of W's rows and a few of W's products with r to
// 2r+k columns. Modules that are invalid, of another shape than their base
// weight, or whose base weight is not found (format.ErrNotFound) are listed
// in Skipped; another error from base, or ctx being cancelled, stops it.
func Amplify(ctx context.Context, mods []Module, base BaseFunc, opt AmplifyOptions) (*Amplification, error) {
	rep := &Amplification{Modules: []ModuleAmplification{}}
	errs := make([]error, 0, len(mods))
	for _, m := range mods {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("analyze: amplification: %w", err)
		}
		a, err := amplifyOne(ctx, m, base, opt)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("analyze: amplification: %w", cerr)
			}
			if !errors.Is(err, format.ErrNotFound) && !errors.Is(err, format.ErrShape) && !errors.Is(err, format.ErrFormat) {
				return nil, err
			}
			errs = append(errs, err)
			rep.Skipped = append(rep.Skipped, Skip{Name: m.Name, Reason: err.Error()})
			continue
		}
		rep.Modules = append(rep.Modules, a)
	}
	if len(rep.Modules) == 0 {
		return nil, noModules("amplification", errs)
	}
	return rep, nil
}

func amplifyOne(ctx context.Context, m Module, base BaseFunc, opt AmplifyOptions) (ModuleAmplification, error) {
	if err := m.Validate(); err != nil {
		return ModuleAmplification{}, err
	}
	w, err := base(m.Name)
	if err != nil {
		return ModuleAmplification{}, fmt.Errorf("analyze: module %q: base weight: %w", m.Name, err)
	}
	return amplify(ctx, m, w, opt)
}
