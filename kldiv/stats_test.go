package kldiv

import (
	"errors"
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// handTol bounds float64 rounding against values worked out by hand.
const handTol = 1e-12

// TestCompare checks positions against distributions worked out by hand
// (Python, math module).
func TestCompare(t *testing.T) {
	ln2 := float32(math.Ln2)
	for _, tc := range []struct {
		name     string
		ref, got []float32
		target   int
		want     Token
	}{
		// p_ref = (1/3, 2/3), p = (1/2, 1/2): KL = 1/3·ln(2/3) + 2/3·ln(4/3).
		{"two tokens", []float32{0, ln2}, []float32{0, 0}, 1, Token{KL: 0.056633012265132426, SameTop: false,
			NLL: math.Ln2, RefNLL: -math.Log(2.0 / 3), DeltaP: 0.5 - 2.0/3}},
		// softmax(2,1,0) against its mirror image; target 1 has the same p.
		{"mirror", []float32{2, 1, 0}, []float32{0, 1, 2}, 1, Token{KL: 1.150420765208883, NLL: 1.4076059644443804, RefNLL: 1.4076059644443804}},
		// Equal logits up to a constant: the same distribution.
		{"shifted", []float32{1, 3, 2}, []float32{11, 13, 12}, 0, Token{KL: 0, SameTop: true, NLL: 2.4076059644443804, RefNLL: 2.4076059644443804}},
	} {
		got, err := Compare(tc.ref, tc.got, tc.target)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		// ln2 as a float32 is not exactly ln 2: allow for its rounding.
		tol := handTol
		if tc.name == "two tokens" {
			tol = 1e-7
		}
		if math.Abs(got.KL-tc.want.KL) > tol || got.SameTop != tc.want.SameTop || math.Abs(got.NLL-tc.want.NLL) > tol ||
			math.Abs(got.RefNLL-tc.want.RefNLL) > tol || math.Abs(got.DeltaP-tc.want.DeltaP) > tol {
			t.Errorf("%s: Compare = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	for _, bad := range []struct {
		ref, got []float32
		target   int
		want     error
	}{
		{[]float32{0, 1}, []float32{0}, 0, format.ErrShape},
		{[]float32{0, 1}, []float32{0, 1}, 2, format.ErrFormat},
		{[]float32{0, float32(math.NaN())}, []float32{0, 1}, 0, format.ErrFormat},
	} {
		if _, err := Compare(bad.ref, bad.got, bad.target); !errors.Is(err, bad.want) {
			t.Errorf("Compare(%v, %v, %d) = %v, want %v", bad.ref, bad.got, bad.target, err, bad.want)
		}
	}
}

// TestResult: statistics of hand-picked per-token values.
func TestResult(t *testing.T) {
	var a Accumulator
	for i, kl := range []float64{0.4, 0.1, 0.3, 0.2} {
		a.Add(Token{KL: kl, SameTop: i != 2, NLL: 1, RefNLL: 0.5, DeltaP: 0.1 * float64(i)})
	}
	r := a.Result()
	// Sorted 0.1 0.2 0.3 0.4: mean 0.25, median (0.2+0.3)/2, p90 at 2.7 → 0.37, p99 at 2.97 → 0.397.
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"mean", r.MeanKL, 0.25}, {"median", r.MedianKL, 0.25}, {"p90", r.P90KL, 0.37}, {"p99", r.P99KL, 0.397},
		{"max", r.MaxKL, 0.4}, {"top1", r.Top1, 0.75}, {"ppl", r.PPL, math.E}, {"ref ppl", r.RefPPL, math.Exp(0.5)},
		{"delta ppl", r.DeltaPPL, math.E - math.Exp(0.5)}, {"ln ratio", r.LnPPLRatio, 0.5},
		{"mean dp", r.MeanDeltaP, 0.15}, {"rms dp", r.RMSDeltaP, math.Sqrt((0.01 + 0.04 + 0.09) / 4)},
	} {
		if math.Abs(c.got-c.want) > handTol {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if r.Tokens != 4 {
		t.Errorf("tokens = %d, want 4", r.Tokens)
	}
	var empty Accumulator
	if (empty.Result() != Result{}) {
		t.Errorf("empty Result = %+v, want zero", empty.Result())
	}
}
