package optim

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
)

// f32Tol bounds the relative gap between the float32 update and a float64
// computation of the same formula (a few float32 roundings per step).
const f32Tol = 1e-6

func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// TestAdamWHandComputed checks two steps on two parameters against values
// worked out by hand in float64 (lr 0.1, wd 0.01, β (0.9, 0.999), ε 1e-8).
//
// Step 1, g = (0.5, −0.25):
//
//	decay  p = (1, −2)·(1 − 0.1·0.01)          = (0.999, −1.998)
//	m = 0.1·g = (0.05, −0.025), v = 0.001·g² = (0.00025, 0.0000625)
//	m̂ = m/0.1 = g, √v̂ = √(v/0.001) = |g|
//	p −= 0.1·g/(|g| + 1e-8): (0.999 − 0.1·0.5/0.50000001, −1.998 + 0.1·0.25/0.25000001)
//	   = (0.899000002, −1.898000004)
//
// Step 2, g = (−0.5, 0.5):
//
//	decay  p·0.999 = (0.898101001998, −1.896102003996)
//	m = 0.9·m + 0.1·g = (−0.005, 0.0275)
//	v = 0.999·v + 0.001·g² = (0.00049975, 0.0003124375)
//	bc1 = 1 − 0.9² = 0.19, bc2 = 1 − 0.999² = 0.001999
//	p1: v̂ = 0.00049975/0.001999 = 0.25 exactly, m̂ = −0.005/0.19
//	    p1 = 0.898101001998 + 0.1·(0.005/0.19)/(0.5 + 1e-8) = 0.9033641598
//	p2: v̂ = 0.0003124375/0.001999 = 0.156297..., √v̂ = 0.395345...
//	    p2 = −1.896102003996 − 0.1·(0.0275/0.19)/0.39534... = −1.9327123558
func TestAdamWHandComputed(t *testing.T) {
	p := Param{Name: "w", Data: []float32{1, -2}, Grad: make([]float32, 2)}
	o, err := NewAdamW([]Param{p}, AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		grad []float32
		want []float64
	}{
		{[]float32{0.5, -0.25}, []float64{0.899000002, -1.898000004}},
		{[]float32{-0.5, 0.5}, []float64{0.9033641598, -1.9327123558}},
	}
	for k, s := range steps {
		copy(p.Grad, s.grad)
		o.Step(0.1)
		for i, w := range s.want {
			if got := float64(p.Data[i]); !near(got, w, f32Tol) {
				t.Errorf("step %d: p[%d] = %.10f, want %.10f", k+1, i, got, w)
			}
		}
	}
	if o.Steps() != 2 {
		t.Errorf("Steps() = %d, want 2", o.Steps())
	}
}

// TestAdamWMatchesTextbook compares many steps on random data with Adam's
// textbook float64 form, m̂/(√v̂+ε) after decoupled decay.
func TestAdamWMatchesTextbook(t *testing.T) {
	const n, steps = 64, 50
	cfg := AdamWConfig{Beta1: 0.9, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.1}
	rng := uint64(7)
	next := func() float64 {
		rng = rng*6364136223846793005 + 1442695040888963407
		return float64(int64(rng>>11))/float64(1<<52) - 1
	}
	p := Param{Name: "w", Data: make([]float32, n), Grad: make([]float32, n)}
	ref, m, v := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range p.Data {
		p.Data[i] = float32(next())
		ref[i] = float64(p.Data[i])
	}
	o, err := NewAdamW([]Param{p}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sched := Linear(1e-2, 5, steps)
	for k := 0; k < steps; k++ {
		for i := range p.Grad {
			p.Grad[i] = float32(next())
		}
		lr := sched(k)
		o.Step(lr)
		tt := float64(k + 1)
		for i := range ref {
			g := float64(p.Grad[i])
			ref[i] *= 1 - lr*cfg.WeightDecay
			m[i] = cfg.Beta1*m[i] + (1-cfg.Beta1)*g
			v[i] = cfg.Beta2*v[i] + (1-cfg.Beta2)*g*g
			ref[i] -= lr * (m[i] / (1 - math.Pow(cfg.Beta1, tt))) / (math.Sqrt(v[i]/(1-math.Pow(cfg.Beta2, tt))) + cfg.Eps)
		}
	}
	// float32 error grows with the number of steps; 50 steps stay well below 1e-5.
	const driftTol = 1e-5
	for i := range ref {
		if !near(float64(p.Data[i]), ref[i], driftTol) {
			t.Fatalf("after %d steps p[%d] = %v, want %v", steps, i, p.Data[i], ref[i])
		}
	}
}

func TestAdamWParallelSameBits(t *testing.T) {
	n := 3*parallelMin + 17
	mk := func() Param {
		p := Param{Name: "w", Data: make([]float32, n), Grad: make([]float32, n)}
		for i := range p.Data {
			p.Data[i] = float32(i%13) / 7
			p.Grad[i] = float32(i%5) - 2
		}
		return p
	}
	a, b := mk(), mk()
	oa, _ := NewAdamW([]Param{a}, DefaultAdamW())
	oa.Step(1e-3)
	// b is updated in one run: the reference for the split computation.
	ob, _ := NewAdamW([]Param{b}, DefaultAdamW())
	ob.step++
	c := adamCoeffs{decay: float32(1 - 1e-3*0.01), lerp: float32(1 - 0.9), beta2: 0.999, oneMinus2: float32(1 - 0.999),
		bc2sqrt: float32(math.Sqrt(1 - 0.999)), eps: 1e-8, negStep: float32(-(1e-3 / (1 - 0.9))), wd: true}
	c.update(b.Data, b.Grad, ob.m[0], ob.v[0])
	for i := range a.Data {
		if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
			t.Fatalf("parallel step: p[%d] = %v, want %v", i, a.Data[i], b.Data[i])
		}
	}
}

func TestSchedules(t *testing.T) {
	tests := []struct {
		name string
		s    Schedule
		k    int
		want float64
	}{
		// Linear(1, warmup 2, total 10): k/2 below 2, then (10−k)/8.
		{"linear k=0", Linear(1, 2, 10), 0, 0},
		{"linear k=1", Linear(1, 2, 10), 1, 0.5},
		{"linear k=2", Linear(1, 2, 10), 2, 1},
		{"linear k=6", Linear(1, 2, 10), 6, 0.5},
		{"linear k=9", Linear(2e-4, 2, 10), 9, 2e-4 / 8},
		{"linear k=10", Linear(1, 2, 10), 10, 0},
		{"linear past end", Linear(1, 2, 10), 20, 0},
		{"linear no warmup", Linear(1, 0, 4), 0, 1},
		// Cosine: ½(1+cos(π·(k−2)/8)).
		{"cosine k=1", Cosine(1, 2, 10), 1, 0.5},
		{"cosine k=2", Cosine(1, 2, 10), 2, 1},
		{"cosine k=4", Cosine(1, 2, 10), 4, 0.5 * (1 + math.Sqrt2/2)},
		{"cosine k=6", Cosine(1, 2, 10), 6, 0.5},
		{"cosine k=10", Cosine(1, 2, 10), 10, 0},
		{"constant", Constant(3e-4), 99, 3e-4},
	}
	const schedTol = 1e-15 // a couple of float64 operations
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s(tc.k); !near(got, tc.want, schedTol) {
				t.Errorf("λ(%d) = %v, want %v", tc.k, got, tc.want)
			}
		})
	}
	if _, err := NewSchedule("step", 1, 0, 1); !errors.Is(err, format.ErrUnsupported) {
		t.Errorf("NewSchedule(step) = %v, want ErrUnsupported", err)
	}
}

func TestClipGradNorm(t *testing.T) {
	// Gradients (3) and (4): norm 5; clipped to 1 they become (3, 4)/(5+1e-6).
	a := Param{Name: "a", Data: []float32{0}, Grad: []float32{3}}
	b := Param{Name: "b", Data: []float32{0}, Grad: []float32{4}}
	if got := ClipGradNorm([]Param{a, b}, 1); got != 5 {
		t.Errorf("ClipGradNorm = %v, want 5", got)
	}
	if !near(float64(a.Grad[0]), 3/(5+1e-6), f32Tol) || !near(float64(b.Grad[0]), 4/(5+1e-6), f32Tol) {
		t.Errorf("clipped grads = %v %v, want 0.6 0.8", a.Grad[0], b.Grad[0])
	}
	// Below the limit nothing changes.
	if ClipGradNorm([]Param{a, b}, 10); a.Grad[0] != float32(3/(5+1e-6)) {
		t.Errorf("grad changed below the limit: %v", a.Grad[0])
	}
}

func TestAccumulator(t *testing.T) {
	a := Accumulator{Every: 3}
	var got []bool
	for i := 0; i < 7; i++ {
		got = append(got, a.Add())
	}
	want := []bool{false, false, true, false, false, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Add() sequence = %v, want %v", got, want)
		}
	}
	if a.LossScale() != 1.0/3 || a.Pending() != 1 {
		t.Errorf("LossScale, Pending = %v, %d, want 1/3, 1", a.LossScale(), a.Pending())
	}
}

func newPair(t *testing.T) ([]Param, *AdamW) {
	t.Helper()
	ps := []Param{
		{Name: "a.lora_A", Data: []float32{0.1, 0.2, 0.3}, Grad: make([]float32, 3)},
		{Name: "a.lora_B", Data: []float32{-1, 1}, Grad: make([]float32, 2)},
	}
	o, err := NewAdamW(ps, DefaultAdamW())
	if err != nil {
		t.Fatal(err)
	}
	return ps, o
}

func feed(ps []Param, k int) {
	for _, p := range ps {
		for i := range p.Grad {
			p.Grad[i] = float32(math.Sin(float64(k*7 + i)))
		}
	}
}

// TestResumeBitIdentical runs 5 steps straight, and 3 steps + save + load
// into a fresh optimizer + 2 steps: the parameters must agree bit for bit.
func TestResumeBitIdentical(t *testing.T) {
	ps1, o1 := newPair(t)
	for k := 0; k < 5; k++ {
		feed(ps1, k)
		o1.Step(1e-2)
	}
	ps2, o2 := newPair(t)
	for k := 0; k < 3; k++ {
		feed(ps2, k)
		o2.Step(1e-2)
	}
	state, err := o2.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	params := []Param{
		{Name: "a.lora_A", Data: append([]float32(nil), ps2[0].Data...), Grad: make([]float32, 3)},
		{Name: "a.lora_B", Data: append([]float32(nil), ps2[1].Data...), Grad: make([]float32, 2)},
	}
	o3, _ := NewAdamW(params, DefaultAdamW())
	if err := o3.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	if o3.Steps() != 3 {
		t.Fatalf("restored Steps() = %d, want 3", o3.Steps())
	}
	for k := 3; k < 5; k++ {
		feed(params, k)
		o3.Step(1e-2)
	}
	for j := range ps1 {
		for i := range ps1[j].Data {
			if math.Float32bits(ps1[j].Data[i]) != math.Float32bits(params[j].Data[i]) {
				t.Errorf("resumed %s[%d] = %v, want %v", ps1[j].Name, i, params[j].Data[i], ps1[j].Data[i])
			}
		}
	}
}

func TestReadStateBad(t *testing.T) {
	_, o := newPair(t)
	good, _ := o.MarshalBinary()
	otherShape := []Param{{Name: "a.lora_A", Data: make([]float32, 4), Grad: make([]float32, 4)}, {Name: "a.lora_B", Data: make([]float32, 2), Grad: make([]float32, 2)}}
	otherName := []Param{{Name: "x", Data: make([]float32, 3), Grad: make([]float32, 3)}, {Name: "a.lora_B", Data: make([]float32, 2), Grad: make([]float32, 2)}}
	foreign := func() []byte {
		var b bytes.Buffer
		w, _ := safetensors.NewWriter(&b, nil, format.Metadata{{Key: "format", Value: "pt"}})
		w.Close()
		return b.Bytes()
	}()
	tests := []struct {
		name   string
		params []Param
		data   []byte
		want   error
	}{
		{"truncated", nil, good[:len(good)-3], format.ErrFormat},
		{"not a state file", nil, foreign, format.ErrFormat},
		{"other shape", otherShape, good, format.ErrShape},
		{"other name", otherName, good, format.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := o
			if tc.params != nil {
				target, _ = NewAdamW(tc.params, DefaultAdamW())
			}
			if err := target.UnmarshalBinary(tc.data); !errors.Is(err, tc.want) {
				t.Errorf("UnmarshalBinary = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewAdamWBad(t *testing.T) {
	tests := []struct {
		name   string
		params []Param
		cfg    AdamWConfig
		want   error
	}{
		{"grad length", []Param{{Name: "w", Data: make([]float32, 2), Grad: make([]float32, 1)}}, DefaultAdamW(), format.ErrShape},
		{"duplicate", []Param{{Name: "w"}, {Name: "w"}}, DefaultAdamW(), format.ErrFormat},
		{"beta1 = 1", nil, AdamWConfig{Beta1: 1, Beta2: 0.9}, format.ErrInvalidOption},
		{"negative eps", nil, AdamWConfig{Beta1: 0.9, Beta2: 0.9, Eps: -1}, format.ErrInvalidOption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewAdamW(tc.params, tc.cfg); !errors.Is(err, tc.want) {
				t.Errorf("NewAdamW = %v, want %v", err, tc.want)
			}
		})
	}
}

func BenchmarkAdamWStep(b *testing.B) {
	const n = 1 << 20
	p := Param{Name: "w", Data: make([]float32, n), Grad: make([]float32, n)}
	for i := range p.Grad {
		p.Grad[i] = float32(i%7) - 3
	}
	o, _ := NewAdamW([]Param{p}, DefaultAdamW())
	b.SetBytes(4 * 4 * n) // p, g, m, v
	b.ReportAllocs()
	for b.Loop() {
		o.Step(1e-4)
	}
}
