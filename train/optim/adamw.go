package optim

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/parallel"
)

// AdamWConfig holds AdamW's hyperparameters (the learning rate comes with
// each Step, from a Schedule).
type AdamWConfig struct {
	Beta1, Beta2 float64 // decay rates of the first and second moments
	Eps          float64 // added to the denominator
	WeightDecay  float64 // decoupled: p ← p·(1 − lr·WeightDecay)
}

// DefaultAdamW returns torch.optim.AdamW's defaults: β = (0.9, 0.999),
// ε = 1e-8, weight decay 0.01.
func DefaultAdamW() AdamWConfig {
	return AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
}

func (c AdamWConfig) validate() error {
	switch {
	case !(c.Beta1 >= 0 && c.Beta1 < 1), !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("optim: AdamW betas (%v, %v) outside [0, 1): %w", c.Beta1, c.Beta2, format.ErrInvalidOption)
	case !(c.Eps >= 0), !(c.WeightDecay >= 0):
		return fmt.Errorf("optim: AdamW eps %v, weight decay %v must be ≥ 0: %w", c.Eps, c.WeightDecay, format.ErrInvalidOption)
	}
	return nil
}

// AdamW is the AdamW optimizer over a fixed list of parameters. Its moments
// are float32, like PyTorch's for float32 parameters.
type AdamW struct {
	cfg    AdamWConfig
	params []Param
	m, v   [][]float32 // exp_avg and exp_avg_sq, one per parameter
	step   int         // optimizer steps taken
}

// NewAdamW returns an optimizer for params with zero moments. The Param
// slices are kept: Step reads Grad and updates Data in place.
func NewAdamW(params []Param, cfg AdamWConfig) (*AdamW, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := checkParams(params); err != nil {
		return nil, err
	}
	o := &AdamW{cfg: cfg, params: params, m: make([][]float32, len(params)), v: make([][]float32, len(params))}
	for i, p := range params {
		o.m[i] = make([]float32, len(p.Data))
		o.v[i] = make([]float32, len(p.Data))
	}
	return o, nil
}

// Config returns the hyperparameters.
func (o *AdamW) Config() AdamWConfig { return o.cfg }

// Steps returns the number of steps taken (PyTorch's state["step"]).
func (o *AdamW) Steps() int { return o.step }

// Params returns the parameters the optimizer updates.
func (o *AdamW) Params() []Param { return o.params }

// Step applies one AdamW update with learning rate lr to every parameter,
// from the gradients currently in Grad.
func (o *AdamW) Step(lr float64) {
	o.step++
	t := float64(o.step)
	c := adamCoeffs{
		decay:     float32(1 - lr*o.cfg.WeightDecay),
		lerp:      float32(1 - o.cfg.Beta1),
		beta2:     float32(o.cfg.Beta2),
		oneMinus2: float32(1 - o.cfg.Beta2),
		bc2sqrt:   float32(math.Sqrt(1 - math.Pow(o.cfg.Beta2, t))),
		eps:       float32(o.cfg.Eps),
		negStep:   float32(-(lr / (1 - math.Pow(o.cfg.Beta1, t)))),
		wd:        o.cfg.WeightDecay != 0,
	}
	for i, p := range o.params {
		parallelRange(len(p.Data), func(lo, hi int) {
			c.update(p.Data[lo:hi], p.Grad[lo:hi], o.m[i][lo:hi], o.v[i][lo:hi])
		})
	}
}

// adamCoeffs are one step's scalars, rounded to float32 as PyTorch's CPU
// kernels round their double arguments for float32 tensors.
type adamCoeffs struct {
	decay, lerp, beta2, oneMinus2, bc2sqrt, eps, negStep float32
	wd                                                   bool
}

// update applies the step to one run of elements: p, g, m, v (n).
func (c adamCoeffs) update(p, g, m, v []float32) {
	_, _, _ = g[len(p)-1], m[len(p)-1], v[len(p)-1]
	for j := range p {
		// The float32 conversions round every product, so that no
		// platform fuses them into FMAs: the same bits on every machine.
		if c.wd {
			p[j] *= c.decay
		}
		gj := g[j]
		if c.lerp < 0.5 { // at::lerp picks its form by the weight
			m[j] += float32(c.lerp * (gj - m[j]))
		} else {
			m[j] = gj - float32((gj-m[j])*(1-c.lerp))
		}
		v[j] = float32(v[j]*c.beta2) + float32(float32(c.oneMinus2*gj)*gj)
		denom := float32(math.Sqrt(float64(v[j])))/c.bc2sqrt + c.eps
		p[j] += float32(c.negStep*m[j]) / denom
	}
}

// parallelMin is the smallest run of elements worth a goroutine.
const parallelMin = 1 << 15

// parallelRange calls f on disjoint runs covering [0, n), on all cores when
// n is large (internal/parallel.Range). Elementwise work gives the same
// bits however it is split.
func parallelRange(n int, f func(lo, hi int)) { parallel.Range(n, parallelMin, 1, f) }
