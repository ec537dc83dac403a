package analyze

import (
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/lora"
)

// TestFromAdapterSharesValues: FromAdapter's modules read the adapter's
// float32 values in place, and analyse exactly as widened float64 copies
// of them do.
func TestFromAdapterSharesValues(t *testing.T) {
	rng := newRNG(60)
	const r, in, out = 3, 37, 29
	m := &lora.Module{Name: "q", Rank: r, In: in, Out: out, Alpha: 6, A: make([]float32, r*in), B: make([]float32, out*r)}
	for i := range m.A {
		m.A[i] = float32(rng.NormFloat64())
	}
	for i := range m.B {
		m.B[i] = float32(rng.NormFloat64())
	}
	got := FromAdapter(&lora.Adapter{Modules: []*lora.Module{m}})[0]
	want := Module{Name: "q", A: mat.NewDense(r, in, widen(m.A)), B: mat.NewDense(out, r, widen(m.B)), Alpha: 6, Scale: 2}
	if !mat.Equal(got.A, want.A) || !mat.Equal(got.B, want.B) || !mat.Equal(got.B.T(), want.B.T()) {
		t.Fatal("FromAdapter's A, B differ from the adapter's values widened")
	}
	m.A[0] = 42
	if got.A.At(0, 0) != 42 {
		t.Error("FromAdapter's A is a copy, want the adapter's values shared")
	}
	want.A.(*mat.Dense).Set(0, 0, 42)
	fg, err := LowRank(got)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := LowRank(want)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(fg.U, fw.U) || !mat.Equal(fg.V, fw.V) || !mat.Equal(mat.NewVecDense(r, fg.Values), mat.NewVecDense(r, fw.Values)) {
		t.Error("LowRank of FromAdapter's module differs from LowRank of its float64 copy")
	}
}
