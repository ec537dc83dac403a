package merge

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// Combination methods (PEFT's add_weighted_adapter combination_type names,
// plus MethodSum).
const (
	MethodLinear         = "linear"
	MethodCat            = "cat"
	MethodSVD            = "svd"
	MethodTIES           = "ties"
	MethodDARELinear     = "dare_linear"
	MethodDARETIES       = "dare_ties"
	MethodMagnitudePrune = "magnitude_prune"
	// MethodSum is lorakit's: the exact Σ w_i·s_i·B_i·A_i, truncated by SVD
	// to SVDRank (default Σ r_i, which loses nothing).
	MethodSum = "sum"
)

// Methods lists the combination methods Combine knows.
var Methods = []string{MethodLinear, MethodCat, MethodSVD, MethodTIES, MethodDARELinear, MethodDARETIES, MethodMagnitudePrune, MethodSum}

// Majority-sign methods of TIES.
const (
	SignTotal     = "total"
	SignFrequency = "frequency"
)

// CombineOptions control Combine.
type CombineOptions struct {
	// Method is one of Methods (default svd, as PEFT's).
	Method string
	// Density is the share of entries TIES, DARE and magnitude_prune keep
	// (required by them; >= 1 keeps all).
	Density float64
	// MajoritySign is "total" (default) or "frequency".
	MajoritySign string
	// SVDRank is the rank of svd and sum (0: max r_i for svd, Σ r_i for sum).
	SVDRank int
	// Seed drives DARE's random pruning. lorakit's generator (PCG) is not
	// torch's, so a DARE result matches PEFT's only in distribution.
	Seed uint64
}

// Combine builds a new adapter from weighted adapters with PEFT's
// add_weighted_adapter semantics (PEFT ≥ 0.17: scale folded once for svd,
// signed square-root weights for linear, use_rslora reset):
//
//   - every weight is first multiplied by the adapter's own scale:
//     w'_i = w_i·s_i; the result has r = lora_alpha = new rank (scale 1);
//   - one adapter: PEFT always uses linear, whatever Method says;
//   - cat: A = [w'_1·A_1; w'_2·A_2; …], B = [B_1 B_2 …]: exactly Σ w'_i B_i A_i,
//     rank Σ r_i;
//   - linear, ties, dare_*, magnitude_prune (equal ranks required): the
//     method is applied to the A's with weights sign(w'_i)·√|w'_i| and,
//     separately, to the B's with √|w'_i|. This is NOT Σ w'_i B_i A_i:
//     cross terms B_i·A_j appear (exact only for one adapter);
//   - svd: Σ w'_i B_i A_i truncated to SVDRank (default max r_i) by SVD,
//     B = U·S, A = Vᵀ;
//   - sum: as svd but with rank Σ r_i by default (lossless) and S split
//     evenly, B = U·√S, A = √S·Vᵀ.
//
// DoRA, lora_B biases and modules_to_save are refused: PEFT combines them
// silently wrongly (peft#3761).
func Combine(inputs []Input, opt CombineOptions) (*lora.Adapter, error) {
	method := opt.Method
	if method == "" {
		method = MethodSVD
	}
	if !validMethod(method) {
		return nil, fmt.Errorf("combination method %q: %w (known: %v)", method, format.ErrUnsupported, Methods)
	}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("combine: no adapter given: %w", format.ErrNotFound)
	}
	if len(inputs) == 1 && method != MethodSum {
		method = MethodLinear // PEFT's rule for a single adapter
	}
	sign := opt.MajoritySign
	if sign == "" {
		sign = SignTotal
	}
	if sign != SignTotal && sign != SignFrequency {
		return nil, fmt.Errorf("majority sign method %q: %w (total or frequency)", sign, format.ErrUnsupported)
	}
	needsDensity := method == MethodTIES || method == MethodDARELinear || method == MethodDARETIES || method == MethodMagnitudePrune
	if needsDensity && !(opt.Density > 0 && opt.Density <= 1) {
		return nil, fmt.Errorf("method %s needs a density in (0, 1], got %g: %w", method, opt.Density, format.ErrInvalidOption)
	}
	adapters := make([]*lora.Adapter, len(inputs))
	ranks := make([]int, len(inputs))
	for i, in := range inputs {
		a, err := in.load(lora.Open)
		if err != nil {
			return nil, err
		}
		if len(a.Saved) > 0 {
			return nil, fmt.Errorf("adapter %s: modules_to_save (%q) cannot be combined; merge the adapter into its base instead: %w", in.name(), a.Saved[0].Name, format.ErrUnsupported)
		}
		for _, m := range a.Modules {
			if m.Magnitude != nil || m.Bias != nil || m.Experts > 0 {
				return nil, fmt.Errorf("adapter %s: module %q: DoRA magnitudes, lora_B biases and stacked experts cannot be combined: %w", in.name(), m.Name, format.ErrUnsupported)
			}
			ranks[i] = max(ranks[i], m.Rank)
		}
		if i > 0 && (a.Kind == lora.KindGGUF) != (adapters[0].Kind == lora.KindGGUF) {
			gguf, other := in.name(), inputs[0].name()
			if adapters[0].Kind == lora.KindGGUF {
				gguf, other = other, gguf
			}
			return nil, fmt.Errorf("adapter %s uses llama.cpp names and %s does not: convert one first: %w", gguf, other, format.ErrUnsupported)
		}
		if i > 0 && a.Arch != "" && adapters[0].Arch != "" && a.Arch != adapters[0].Arch {
			return nil, fmt.Errorf("adapter %s is for architecture %q but %s is for %q: %w", in.name(), a.Arch, inputs[0].name(), adapters[0].Arch, format.ErrShape)
		}
		adapters[i] = a
	}
	newRank, err := combinedRank(method, ranks, opt.SVDRank)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	out := &lora.Adapter{Kind: adapters[0].Kind, Arch: adapters[0].Arch, DType: format.F32, Metadata: adapters[0].Metadata.Clone()}
	out.Config = lora.NewConfig(newRank, float64(newRank))
	if c := adapters[0].Config; c != nil {
		out.Config = c.Clone()
		out.Config.R, out.Config.LoraAlpha, out.Config.UseRSLoRA = newRank, float64(newRank), false
		out.Config.RankPattern, out.Config.AlphaPattern = lora.Pattern{}, lora.Pattern{}
	}
	for _, name := range moduleOrder(adapters) {
		m, err := combineModule(name, inputs, adapters, method, newRank, opt.Density, sign, rng)
		if err != nil {
			return nil, err
		}
		out.Modules = append(out.Modules, m)
	}
	if err := out.SyncConfig(); err != nil {
		return nil, err
	}
	return out, nil
}

func validMethod(m string) bool {
	for _, x := range Methods {
		if x == m {
			return true
		}
	}
	return false
}

// combinedRank is the rank of the combined adapter.
func combinedRank(method string, ranks []int, svdRank int) (int, error) {
	sum, mx := 0, 0
	for _, r := range ranks {
		sum += r
		mx = max(mx, r)
	}
	switch method {
	case MethodCat:
		return sum, nil
	case MethodSVD, MethodSum:
		if svdRank < 0 {
			return 0, fmt.Errorf("svd rank %d: %w", svdRank, format.ErrInvalidOption)
		}
		if svdRank > 0 {
			return svdRank, nil
		}
		if method == MethodSum {
			return sum, nil
		}
		return mx, nil
	}
	for _, r := range ranks {
		if r != ranks[0] {
			return 0, fmt.Errorf("method %s needs adapters of equal rank, got %v (use cat, svd or sum): %w", method, ranks, format.ErrShape)
		}
	}
	return ranks[0], nil
}

// moduleOrder lists module names in order of first appearance.
func moduleOrder(adapters []*lora.Adapter) []string {
	seen := map[string]bool{}
	var names []string
	for _, a := range adapters {
		for _, m := range a.Modules {
			if !seen[m.Name] {
				seen[m.Name] = true
				names = append(names, m.Name)
			}
		}
	}
	return names
}

// combineModule combines one module across the adapters that have it.
func combineModule(name string, inputs []Input, adapters []*lora.Adapter, method string, newRank int, density float64, sign string, rng *rand.Rand) (*lora.Module, error) {
	var mods []*lora.Module
	var w []float64 // w_i · s_i
	var first *lora.Module
	for i, a := range adapters {
		m := a.Module(name)
		if m == nil {
			continue
		}
		if first == nil {
			first = m
		} else if m.In != first.In || m.Out != first.Out || m.Transposed() != first.Transposed() {
			return nil, fmt.Errorf("adapter %s: module %q: update is %d×%d but adapter %s has %d×%d: %w", inputs[i].name(), name, m.Out, m.In, inputs[0].name(), first.Out, first.In, format.ErrShape)
		}
		mods = append(mods, m)
		w = append(w, inputs[i].Scale*m.Scale())
	}
	res := &lora.Module{Name: name, Rank: newRank, In: first.In, Out: first.Out, Alpha: float64(newRank),
		FanInFanOut: first.FanInFanOut, Embedding: first.Embedding}
	switch method {
	case MethodCat:
		res.A = make([]float32, newRank*res.In)
		res.B = make([]float32, res.Out*newRank)
		off := 0
		for i, m := range mods {
			for k := range m.Rank {
				for j := range m.In {
					res.A[(off+k)*res.In+j] = float32(w[i] * float64(m.A[k*m.In+j]))
				}
				for o := range m.Out {
					res.B[o*newRank+off+k] = m.B[o*m.Rank+k]
				}
			}
			off += m.Rank
		}
	case MethodSVD, MethodSum:
		var left, right [][]float64
		for i, m := range mods {
			for k := range m.Rank {
				l, r := make([]float64, m.Out), make([]float64, m.In)
				for o := range m.Out {
					l[o] = w[i] * float64(m.B[o*m.Rank+k])
				}
				for j := range m.In {
					r[j] = float64(m.A[k*m.In+j])
				}
				left, right = append(left, l), append(right, r)
			}
		}
		f, err := lowRankSVD(left, right)
		if err != nil {
			return nil, fmt.Errorf("module %q: %w", name, err)
		}
		pb := 1.0 // PEFT: B = U·S, A = Vh
		if method == MethodSum {
			pb = 0.5
		}
		res.B, res.A = toModuleFactors(f, newRank, res.Out, res.In, pb)
	default:
		if mods[0].Rank != newRank {
			return nil, fmt.Errorf("module %q has rank %d, not the adapters' %d: %w", name, mods[0].Rank, newRank, format.ErrShape)
		}
		wa, wb := make([]float64, len(w)), make([]float64, len(w))
		as, bs := make([][]float32, len(mods)), make([][]float32, len(mods))
		for i, m := range mods {
			if m.Rank != newRank {
				return nil, fmt.Errorf("adapter %s: module %q has rank %d, want %d for %s: %w", inputs[i].name(), name, m.Rank, newRank, method, format.ErrShape)
			}
			r := math.Sqrt(math.Abs(w[i]))
			wa[i], wb[i] = math.Copysign(r, w[i]), r
			as[i], bs[i] = m.A, m.B
		}
		var err error
		if res.A, err = combineTasks(method, as, wa, density, sign, rng); err != nil {
			return nil, err
		}
		if res.B, err = combineTasks(method, bs, wb, density, sign, rng); err != nil {
			return nil, err
		}
	}
	return res, nil
}
