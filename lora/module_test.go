package lora

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/format"
)

func TestDeltaHandComputed(t *testing.T) {
	// B (3x2), A (2x2), alpha 4, rank 2: s = 2.
	m := &Module{Name: "q", Rank: 2, In: 2, Out: 3, Alpha: 4,
		A: []float32{1, 2, 3, 4}, B: []float32{1, 0, 0, 1, 1, -1}}
	// B*A = [[1 2] [3 4] [-2 -2]], times 2.
	want := []float32{2, 4, 6, 8, -4, -4}
	if got := m.Delta(); !slices.Equal(got, want) {
		t.Errorf("Delta() = %v, want %v", got, want)
	}
	m.RSLoRA = true // s = 4/sqrt(2)
	got := m.Delta()
	for i := range want {
		if w := want[i] / 2 * float32(4/math.Sqrt2); math.Abs(float64(got[i]-w)) > 1e-6 {
			t.Errorf("rsLoRA Delta()[%d] = %v, want %v", i, got[i], w)
		}
	}
}

// TestDeltaLargeMatchesDefinition checks the multi-core path (a module big
// enough to be split) against the definition s*sum_k B[i,k]*A[k,j], summed
// in float64 in the same order, so every value must match exactly.
func TestDeltaLargeMatchesDefinition(t *testing.T) {
	const in, out, r = 300, 257, 8
	m := &Module{Name: "w", Rank: r, In: in, Out: out, Alpha: 3, A: seq(r*in, 0), B: seq(out*r, 0)}
	for i := range m.A {
		m.A[i] = float32(math.Sin(float64(i)))
	}
	for i := range m.B {
		m.B[i] = float32(math.Cos(float64(i)))
	}
	got := m.Delta()
	s := m.Scale()
	for i := range out {
		for j := range in {
			var sum float64
			for k := range r {
				sum += float64(m.B[i*r+k]) * float64(m.A[k*in+j])
			}
			if want := float32(s * sum); got[i*in+j] != want {
				t.Fatalf("Delta()[%d,%d] = %v, want %v", i, j, got[i*in+j], want)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	ok := func() *Module {
		return &Module{Name: "q", Rank: 2, In: 2, Out: 3, Alpha: 4, A: seq(4, 1), B: seq(6, 1)}
	}
	tests := []struct {
		name    string
		corrupt func(m *Module)
		want    error
	}{
		{"rank 0", func(m *Module) { m.Rank = 0 }, format.ErrShape},
		{"A short", func(m *Module) { m.A = m.A[:3] }, format.ErrShape},
		{"B of another rank", func(m *Module) { m.B = seq(9, 1) }, format.ErrShape},
		{"magnitude length", func(m *Module) { m.Magnitude = seq(2, 1) }, format.ErrShape},
		{"Inf in A", func(m *Module) { m.A[2] = float32(math.Inf(1)) }, format.ErrFormat},
		{"NaN magnitude", func(m *Module) { m.Magnitude = []float32{1, float32(math.NaN()), 1} }, format.ErrFormat},
		{"alpha Inf", func(m *Module) { m.Alpha = math.Inf(1) }, format.ErrFormat},
	}
	if err := ok().Validate(); err != nil {
		t.Fatalf("Validate() of a good module = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok()
			tt.corrupt(m)
			err := m.Validate()
			if !errors.Is(err, tt.want) {
				t.Errorf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestSyncConfigForPEFT writes an adapter whose modules have different
// ranks, alphas and rsLoRA flags (as after reading a GGUF or folding) and
// checks that PEFT's rules, applied to the written config, give back every
// module's scale.
func TestSyncConfigForPEFT(t *testing.T) {
	a := &Adapter{Modules: []*Module{
		{Name: "model.layers.0.self_attn.q_proj", Rank: 4, In: 2, Out: 2, Alpha: 8, A: seq(8, 1), B: seq(8, 1)},               // 2
		{Name: "model.layers.0.self_attn.v_proj", Rank: 2, In: 2, Out: 2, Alpha: 8, A: seq(4, 1), B: seq(4, 1)},               // 4
		{Name: "model.layers.1.self_attn.q_proj", Rank: 4, In: 2, Out: 2, Alpha: 6, RSLoRA: true, A: seq(8, 1), B: seq(8, 1)}, // 3
	}}
	out := filepath.Join(t.TempDir(), "a")
	if err := WritePEFT(a, out, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := ReadPEFT(out)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range a.Modules {
		if g := b.Modules[i]; g.Scale() != m.Scale() || g.Rank != m.Rank {
			t.Errorf("%s: scale %v rank %d after PEFT round trip, want %v %d", m.Name, g.Scale(), g.Rank, m.Scale(), m.Rank)
		}
		if ok, err := b.Config.Targets(m.Name); !ok || err != nil {
			t.Errorf("Targets(%q) = %v, %v", m.Name, ok, err)
		}
	}
	if a.Config != nil {
		t.Errorf("WritePEFT modified the adapter's Config")
	}
}

func BenchmarkDelta4096r16(b *testing.B) {
	const n, r = 4096, 16
	m := &Module{Name: "w", Rank: r, In: n, Out: n, Alpha: 16, A: seq(r*n, 0), B: seq(n*r, 0)}
	dst := make([]float32, n*n)
	b.SetBytes(4 * n * n)
	b.ReportAllocs()
	for b.Loop() {
		m.DeltaInto(dst)
	}
}

func BenchmarkReadPEFTTigrinya(b *testing.B) {
	dir := sharedDir(b, tigrinya)
	b.SetBytes(3253104)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadPEFT(dir); err != nil {
			b.Fatal(err)
		}
	}
}
