package analyze

import (
	"context"
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/parallel"
	"gonum.org/v1/gonum/mat"
)

// Energy thresholds of the energy ranks: the fraction of ‖ΔW‖_F² that the
// top k singular values must hold.
const (
	Energy90 = 0.90
	Energy99 = 0.99
)

// energySlack absorbs rounding in the running sum of σ², so that ten equal
// singular values keep 90% of the energy at k = 9, not 10.
const energySlack = 1e-12

// ModuleSpectrum describes the singular values of one module's ΔW. Its JSON
// form is the spectrum entry, field for field.
type ModuleSpectrum struct {
	Name  string  `json:"name"`
	Rank  int     `json:"rank"`
	Alpha float64 `json:"alpha"`
	Scale float64 `json:"scale"`
	// Shape is [out, in] of ΔW.
	Shape [2]int `json:"shape"`
	// SingularValues of ΔW, non-increasing, min(out, in, rank) of them.
	SingularValues []float64 `json:"singular_values"`
	// NumericalRank counts σ_i > NumericalTolerance(σ, out, in).
	NumericalRank int `json:"numerical_rank"`
	// EnergyRank90 and EnergyRank99: the smallest k with
	// Σ_{i≤k} σ_i² ≥ 0.90 (0.99)·Σσ²; 0 for a zero update.
	EnergyRank90 int `json:"energy_rank_90"`
	EnergyRank99 int `json:"energy_rank_99"`
	// StableRank is ‖ΔW‖_F² / ‖ΔW‖_2² (0 for a zero update).
	StableRank float64 `json:"stable_rank"`
	// EffectiveRank is the entropy effective rank of Roy & Vetterli (2007):
	// exp(−Σ p_i ln p_i) with p_i = σ_i / Σσ_j (0 for a zero update).
	EffectiveRank float64 `json:"effective_rank"`
	// Frobenius is ‖ΔW‖_F.
	Frobenius float64 `json:"frobenius"`
}

// Spectrum is the spectrum report of an adapter. Its "modules" list is the
// issue's JSON shape; skipped modules, if any, follow with their reasons.
type Spectrum struct {
	Modules []ModuleSpectrum `json:"modules"`
	Skipped []Skip           `json:"skipped,omitempty"`
}

// NumericalTolerance is the threshold under which a singular value counts as
// zero: max(out, in)·ε·σ₁, ε = 2⁻⁵², the default of numpy.linalg.matrix_rank
// and of LAPACK-based rank decisions. The low-rank path computes every σ_i
// with an absolute error of a small multiple of ε·σ₁, so a planted rank-k
// update reports exactly k.
func NumericalTolerance(values []float64, out, in int) float64 {
	if len(values) == 0 {
		return 0
	}
	const eps = 0x1p-52
	return float64(max(out, in)) * eps * values[0]
}

// SpectrumOf computes the spectrum of one module.
func SpectrumOf(m Module) (ModuleSpectrum, error) {
	if err := m.Validate(); err != nil {
		return ModuleSpectrum{}, err
	}
	f, err := factorProduct(m.B.T(), m.A, m.Scale, mat.SVDNone) // values only: no vectors formed
	if err == nil && !finite(f.values...) {
		err = fmt.Errorf("ΔW exceeds the float64 range: %w", format.ErrFormat)
	}
	if err != nil {
		return ModuleSpectrum{}, fmt.Errorf("analyze: module %q: %w", m.Name, err)
	}
	return spectrumFromValues(m, m.Shape(), f.values), nil
}

func spectrumFromValues(m Module, shape [2]int, sv []float64) ModuleSpectrum {
	s := ModuleSpectrum{
		Name: m.Name, Rank: m.Rank(), Alpha: m.Alpha, Scale: m.Scale,
		Shape: shape, SingularValues: sv,
	}
	tol := NumericalTolerance(sv, shape[0], shape[1])
	for _, v := range sv {
		if v > tol {
			s.NumericalRank++
		}
	}
	s.EnergyRank90 = energyRank(sv, Energy90)
	s.EnergyRank99 = energyRank(sv, Energy99)
	if len(sv) == 0 || sv[0] == 0 {
		return s
	}
	// Sums of σ_i/σ₁ cannot overflow where σ² could.
	var energy, sum float64
	for _, v := range sv {
		energy += (v / sv[0]) * (v / sv[0])
		sum += v / sv[0]
	}
	s.Frobenius = sv[0] * math.Sqrt(energy)
	s.StableRank = energy
	var h float64
	for _, v := range sv {
		if p := v / sv[0] / sum; p > 0 {
			h -= p * math.Log(p)
		}
	}
	s.EffectiveRank = math.Exp(h)
	return s
}

// energyRank is the smallest k whose top-k values hold frac of Σσ²; 0 for
// an all-zero sv.
func energyRank(sv []float64, frac float64) int {
	if len(sv) == 0 || sv[0] == 0 {
		return 0
	}
	var energy float64
	for _, v := range sv {
		energy += (v / sv[0]) * (v / sv[0])
	}
	goal := frac * energy * (1 - energySlack)
	var cum float64
	for i, v := range sv {
		cum += (v / sv[0]) * (v / sv[0])
		if cum >= goal {
			return i + 1
		}
	}
	return len(sv)
}

// Spectra computes the spectrum of every module, in parallel on all cores,
// keeping the input order. Modules that fail validation are listed in
// Skipped; the error is non-nil only when ctx is cancelled or no module
// could be analysed.
func Spectra(ctx context.Context, mods []Module) (*Spectrum, error) {
	out := make([]ModuleSpectrum, len(mods))
	errs := make([]error, len(mods))
	err := parallel.ForEach(ctx, len(mods), func(i int) {
		out[i], errs[i] = SpectrumOf(mods[i])
	})
	if err != nil {
		return nil, fmt.Errorf("analyze: spectrum: %w", err)
	}
	rep := &Spectrum{Modules: []ModuleSpectrum{}}
	for i := range mods {
		if errs[i] != nil {
			rep.Skipped = append(rep.Skipped, Skip{Name: mods[i].Name, Reason: errs[i].Error()})
			continue
		}
		rep.Modules = append(rep.Modules, out[i])
	}
	if len(rep.Modules) == 0 {
		return nil, noModules("spectrum", errs)
	}
	return rep, nil
}

// noModules is the error of a batch in which no module could be analysed.
func noModules(what string, errs []error) error {
	for _, e := range errs {
		if e != nil {
			return fmt.Errorf("analyze: %s: no module could be analysed (%d skipped); first: %w", what, len(errs), e)
		}
	}
	return fmt.Errorf("analyze: %s: no modules given: %w", what, format.ErrNotFound)
}

// finite says whether every x is neither NaN nor infinite.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
