package kldiv

import (
	"fmt"
	"math"
	"sort"

	"github.com/lorakit/lorakit/format"
)

// Token is the comparison of one position.
type Token struct {
	// KL is KL(P_ref ‖ P_model) = Σ_i p_ref(i)·(log p_ref(i) − log p_model(i)), in nats.
	KL float64
	// SameTop reports that both distributions put their maximum on the
	// same token (the first one on ties, as llama-perplexity).
	SameTop bool
	// NLL and RefNLL are −log p(target) under the model and the reference.
	NLL, RefNLL float64
	// DeltaP is p_model(target) − p_ref(target).
	DeltaP float64
}

// logSoftmax returns log softmax(logits) in float64 and the index of the
// first maximum.
func logSoftmax(dst []float64, logits []float32) int {
	imax := 0
	for i, v := range logits {
		if v > logits[imax] {
			imax = i
		}
	}
	m := float64(logits[imax])
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - m)
	}
	lse := m + math.Log(sum)
	for i, v := range logits {
		dst[i] = float64(v) - lse
	}
	return imax
}

// Compare compares the model's logits with the reference's at one
// position whose next token is target.
//
//	ref, got (vocab) -> Token
func Compare(ref, got []float32, target int) (Token, error) {
	if len(ref) != len(got) || len(ref) == 0 {
		return Token{}, fmt.Errorf("kldiv: %d reference logits, %d model logits: %w", len(ref), len(got), format.ErrShape)
	}
	if target < 0 || target >= len(ref) {
		return Token{}, fmt.Errorf("kldiv: target %d outside a vocabulary of %d: %w", target, len(ref), format.ErrFormat)
	}
	for i := range ref {
		if !finite(ref[i]) || !finite(got[i]) {
			return Token{}, fmt.Errorf("kldiv: logit %d is not finite (reference %v, model %v): %w", i, ref[i], got[i], format.ErrFormat)
		}
	}
	lr, lg := make([]float64, len(ref)), make([]float64, len(got))
	tr, tg := logSoftmax(lr, ref), logSoftmax(lg, got)
	var kl float64
	for i := range lr {
		kl += math.Exp(lr[i]) * (lr[i] - lg[i])
	}
	return Token{
		KL:      max(kl, 0), // ≥ 0 in exact arithmetic; rounding can leave -1e-17
		SameTop: tr == tg,
		NLL:     -lg[target],
		RefNLL:  -lr[target],
		DeltaP:  math.Exp(lg[target]) - math.Exp(lr[target]),
	}, nil
}

func finite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// Accumulator gathers compared positions.
type Accumulator struct {
	kl                  []float64
	same                int
	nll, refNLL, deltaP float64
	sumDP2              float64
}

// Add adds one position.
func (a *Accumulator) Add(t Token) {
	a.kl = append(a.kl, t.KL)
	if t.SameTop {
		a.same++
	}
	a.nll += t.NLL
	a.refNLL += t.RefNLL
	a.deltaP += t.DeltaP
	a.sumDP2 += t.DeltaP * t.DeltaP
}

// Result summarises the positions added so far.
type Result struct {
	Tokens int `json:"tokens"`
	// MeanKL, MedianKL, P90KL, P99KL and MaxKL describe the per-token KL
	// divergences (nats); percentiles interpolate linearly between sorted
	// values and the median of an even count is the mean of the middle
	// two, as llama-perplexity computes them.
	MeanKL   float64 `json:"mean_kl"`
	MedianKL float64 `json:"median_kl"`
	P90KL    float64 `json:"p90_kl"`
	P99KL    float64 `json:"p99_kl"`
	MaxKL    float64 `json:"max_kl"`
	// Top1 is the fraction of positions where both models' most likely
	// token is the same.
	Top1 float64 `json:"top1_agreement"`
	// PPL and RefPPL are exp(mean NLL) of the model and the reference on
	// the same targets; DeltaPPL = PPL − RefPPL; LnPPLRatio = ln(PPL/RefPPL).
	PPL        float64 `json:"ppl"`
	RefPPL     float64 `json:"ref_ppl"`
	DeltaPPL   float64 `json:"delta_ppl"`
	LnPPLRatio float64 `json:"ln_ppl_ratio"`
	// MeanDeltaP and RMSDeltaP describe p_model(target) − p_ref(target).
	MeanDeltaP float64 `json:"mean_delta_p"`
	RMSDeltaP  float64 `json:"rms_delta_p"`
}

// Result returns the summary; it is the zero Result before any Add.
func (a *Accumulator) Result() Result {
	n := len(a.kl)
	if n == 0 {
		return Result{}
	}
	s := append([]float64(nil), a.kl...)
	sort.Float64s(s)
	var sum float64
	for _, v := range a.kl {
		sum += v
	}
	median := s[n/2]
	if n%2 == 0 {
		median = (s[n/2] + s[n/2-1]) / 2
	}
	fn := float64(n)
	r := Result{
		Tokens: n, MeanKL: sum / fn, MedianKL: median,
		P90KL: percentile(s, 0.90), P99KL: percentile(s, 0.99), MaxKL: s[n-1],
		Top1: float64(a.same) / fn,
		PPL:  math.Exp(a.nll / fn), RefPPL: math.Exp(a.refNLL / fn),
		LnPPLRatio: (a.nll - a.refNLL) / fn,
		MeanDeltaP: a.deltaP / fn, RMSDeltaP: math.Sqrt(a.sumDP2 / fn),
	}
	r.DeltaPPL = r.PPL - r.RefPPL
	return r
}

// percentile interpolates linearly between the sorted values s at
// fraction·(len−1), as llama-perplexity.
func percentile(s []float64, fraction float64) float64 {
	p := fraction * float64(len(s)-1)
	i := int(p)
	p -= float64(i)
	return (1-p)*s[i] + p*s[min(i+1, len(s)-1)]
}
