package encoder

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/lora"
)

// How the gradient checks work: the loss L = Σ r·hidden + loss(logits),
// with r random, is differentiated by the backward pass (accumulated into
// float32 gradients) and by central differences of the float64 forward
// pass, perturbing each float32 parameter by ±fdStep and dividing by the
// perturbation float32 actually made. The error is ‖analytic − numeric‖ /
// max(‖analytic‖, ‖numeric‖) over each parameter tensor.
const (
	fdStep  = 1e-3 // float32 parameters: a step far above their ulp; O(h²) truncation ~1e-7 relative
	tolGrad = 1e-5 // measured ≤ 3.3e-6 (MLM, every weight trained): float32 accumulation, truncation
	// gradFloor: gradients whose norm is below this on both sides are zero
	// in exact arithmetic (a key bias under softmax: the differences see
	// only ~1e-12 of rounding noise) and are compared absolutely.
	gradFloor = 1e-6
)

// gradLoss is L for the check, running backward when grad is set.
func gradLoss(m *Model, ex Example, r []float64, grad bool) float64 {
	var c *pass
	if grad {
		c = &pass{}
	}
	out := m.forward(ex.Seq, c)
	L := 0.0
	for i, v := range out.Hidden {
		L += r[i] * v
	}
	loss, dl := m.lossGrad(out.Logits, ex)
	if grad {
		m.backward(r, dl, c)
	}
	return L + loss
}

// randomLoRA puts a LoRA with random A and B on every linear the model
// has none on, so that every kind of linear is checked.
func randomLoRA(m *Model, rng *rand.Rand) {
	for _, name := range m.Linears() {
		l := m.linears[name]
		if l.LoRA != nil {
			continue
		}
		r := 2
		a, b := make([]float32, r*l.In), make([]float32, l.Out*r)
		for i := range a {
			a[i] = float32(0.1 * rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(0.1 * rng.NormFloat64())
		}
		l.LoRA = &LoRA{Rank: r, Scale: 1.5, A: a, B: b, DA: make([]float32, len(a)), DB: make([]float32, len(b))}
	}
}

func TestGradients(t *testing.T) {
	root := testshared.Path(t, "fixtures/encoder")
	fixture := func(fam string) *Model {
		m := load(t, filepath.Join(root, "hf", fam+"-seqcls"))
		a, err := lora.Open(filepath.Join(root, "adapters", fam+"-seqcls-lora"))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.ApplyAdapter(a); err != nil {
			t.Fatal(err)
		}
		return m
	}
	regression, err := NewRandom(Config{Layers: 2, Hidden: 16, Heads: 2, FF: 24, Vocab: 20, Positions: 16, Types: 2, Eps: 1e-5,
		Head: RoBERTaHead, Labels: []string{"score"}}, 0.02, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		m    *Model
		ex   Example
	}{
		{"bert, types, padded", fixture("bert"), Example{Seq: Sequence{IDs: []int{2, 5, 6, 3, 9, 3, 0, 0}, Types: []int{0, 0, 0, 0, 1, 1, 0, 0},
			Mask: []bool{true, true, true, true, true, true, false, false}}, Label: 1}},
		{"roberta, padded", fixture("roberta"), Example{Seq: Sequence{IDs: []int{0, 5, 6, 7, 2, 1, 1},
			Mask: []bool{true, true, true, true, true, false, false}}, Label: 2}},
		{"regression head", regression, Example{Seq: Sequence{IDs: []int{1, 4, 9, 3}}, Target: 0.7}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			m := c.m
			randomLoRA(m, rng)
			if err := m.TrainHead(); err != nil {
				t.Fatal(err)
			}
			if c.m.Config.Head == BERTHead {
				p := m.linears["cls.pooler"] // frozen in PEFT's recipe; checked here as a full linear too
				p.DW, p.DB = make([]float32, len(p.W)), make([]float32, len(p.B))
			}
			checkGradients(t, m, c.ex, rng)
		})
	}
}

// checkGradients compares every trainable parameter's gradient of L with
// central differences (about 8 elements per tensor).
func checkGradients(t *testing.T, m *Model, ex Example, rng *rand.Rand) {
	t.Helper()
	r := make([]float64, len(ex.Seq.IDs)*m.Config.Hidden)
	for i := range r {
		r[i] = rng.NormFloat64()
	}
	checkGradientsOf(t, m, func(grad bool) float64 { return gradLoss(m, ex, r, grad) })
}

// checkGradientsOf checks the gradients L(true) accumulates against
// central differences of L(false).
func checkGradientsOf(t *testing.T, m *Model, L func(grad bool) float64) {
	t.Helper()
	L(true)
	worst := 0.0
	for _, p := range m.Params() {
		step := max(1, len(p.Data)/8)
		var d, na, nn float64
		for i := 0; i < len(p.Data); i += step {
			v := p.Data[i]
			p.Data[i] = v + fdStep
			hi := p.Data[i]
			lp := L(false)
			p.Data[i] = v - fdStep
			lo := p.Data[i]
			lm := L(false)
			p.Data[i] = v
			num := (lp - lm) / (float64(hi) - float64(lo))
			a := float64(p.Grad[i])
			d += (a - num) * (a - num)
			na += a * a
			nn += num * num
		}
		rel := math.Sqrt(d) / math.Max(math.Sqrt(max(na, nn)), gradFloor)
		worst = max(worst, rel)
		if rel > tolGrad {
			t.Errorf("%s: relative error %.3g > %g", p.Name, rel, tolGrad)
		}
	}
	t.Logf("%d parameter tensors, worst relative error %.3g", len(m.Params()), worst)
}
