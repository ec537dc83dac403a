package lora

import (
	"fmt"
	"math"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/parallel"
)

// Module is one adapted layer: the pair A (Rank x In) and B (Out x Rank),
// row-major float32, so that the layer's update is dW = Scale() * B*A, an
// (Out x In) matrix in nn.Linear orientation (y = W x).
//
// A module of stacked experts (Experts > 0) holds one independent pair per
// expert, as llama.cpp's 3-D adapter tensors do: A is (Experts, Rank, In),
// B (Experts, Out, Rank), and dW (Experts, Out, In) has expert e's update
// Scale()*B_e*A_e in its e-th slice. Rank is each expert's rank.
type Module struct {
	// Name is the module path without prefix and suffix, as the file names it:
	// "transformer.h.0.attn.c_attn" (PEFT, MLX) or "blk.0.attn_q" (GGUF).
	Name string

	A []float32 // Rank x In
	B []float32 // Out x Rank

	// Rank is r; In and Out are the base layer's input and output sizes.
	Rank, In, Out int
	// Experts is the number of stacked experts (0: a plain 2-D module).
	Experts int
	// Param: Name is the full name of the adapted parameter itself (PEFT's
	// target_parameters, e.g. "model.layers.0.mlp.experts.gate_up_proj"),
	// not a module whose ".weight" is adapted.
	Param bool
	// Alpha and RSLoRA give the scale: Alpha/Rank, or Alpha/sqrt(Rank) with
	// RSLoRA. PEFT's rank_pattern / alpha_pattern are resolved at load.
	Alpha  float64
	RSLoRA bool

	// FanInFanOut: the base layer stores its weight transposed, (In x Out)
	// (GPT-2's Conv1D), so dW is added to it as its transpose.
	FanInFanOut bool
	// Embedding: an embedding adapter (PEFT lora_embedding_A/B). The base
	// weight is (In x Out) = (num_embeddings x dim), so dW is added
	// transposed, as with FanInFanOut.
	Embedding bool

	// Magnitude is DoRA's magnitude vector (len Out), nil for plain LoRA.
	Magnitude []float32
	// Bias is lora_B's bias (PEFT lora_bias=True, len Out), nil if none.
	Bias []float32
}

// Scale is the factor applied to B*A: Alpha/Rank, or Alpha/sqrt(Rank) for
// rank-stabilised LoRA.
func (m *Module) Scale() float64 {
	if m.Rank <= 0 {
		return 0
	}
	if m.RSLoRA {
		return m.Alpha / math.Sqrt(float64(m.Rank))
	}
	return m.Alpha / float64(m.Rank)
}

// Transposed reports whether the base weight holds dW transposed (In x Out).
func (m *Module) Transposed() bool { return m.FanInFanOut || m.Embedding }

// Delta returns Scale()*B*A, (Out x In) row-major, accumulated in float64
// and computed on all cores; for stacked experts, (Experts, Out, In).
//
//	B (Out,Rank), A (Rank,In) -> dW (Out,In)
func (m *Module) Delta() []float32 {
	out := make([]float32, max(1, m.Experts)*m.Out*m.In)
	m.DeltaInto(out)
	return out
}

// DeltaInto writes Scale()*B*A into dst (len Out*In, row-major (Out,In);
// Experts*Out*In for stacked experts). It panics if dst has the wrong
// length (a programmer error).
func (m *Module) DeltaInto(dst []float32) {
	if m.Experts > 0 {
		n := m.Out * m.In
		if len(dst) != m.Experts*n {
			panic(fmt.Sprintf("lora: DeltaInto: dst has %d elements, want %d", len(dst), m.Experts*n))
		}
		for e := range m.Experts {
			m.Expert(e).DeltaInto(dst[e*n : (e+1)*n])
		}
		return
	}
	if len(dst) != m.Out*m.In {
		panic(fmt.Sprintf("lora: DeltaInto: dst has %d elements, want %d", len(dst), m.Out*m.In))
	}
	s := m.Scale()
	parallel.Range(m.Out, max(1, minParallelWork/max(1, m.Rank*m.In)), 1, func(lo, hi int) {
		row := make([]float64, m.In)
		for i := lo; i < hi; i++ {
			clear(row)
			for k := range m.Rank {
				b := float64(m.B[i*m.Rank+k])
				if b == 0 {
					continue
				}
				for j, a := range m.A[k*m.In : (k+1)*m.In] {
					row[j] += b * float64(a)
				}
			}
			d := dst[i*m.In : (i+1)*m.In]
			for j, v := range row {
				d[j] = float32(s * v)
			}
		}
	})
}

// minParallelWork is the multiply-adds below which DeltaInto stays on the
// calling goroutine: starting goroutines would cost more than they save.
const minParallelWork = 1 << 15

// Validate checks the module's shapes and values: a positive rank and
// dimensions, A and B of the sizes they claim, finite values and a finite
// scale. Errors name the module and wrap format.ErrShape or ErrFormat.
func (m *Module) Validate() error {
	switch {
	case m.Rank <= 0:
		return fmt.Errorf("module %q: rank %d, want > 0: %w", m.Name, m.Rank, format.ErrShape)
	case m.In <= 0 || m.Out <= 0:
		return fmt.Errorf("module %q: in %d, out %d, want > 0: %w", m.Name, m.In, m.Out, format.ErrShape)
	case m.Experts < 0:
		return fmt.Errorf("module %q: %d experts: %w", m.Name, m.Experts, format.ErrShape)
	case len(m.A) != max(1, m.Experts)*m.Rank*m.In:
		return fmt.Errorf("module %q: A has %d values, want %s rank %d x in %d: %w", m.Name, len(m.A), m.expertsX(), m.Rank, m.In, format.ErrShape)
	case len(m.B) != max(1, m.Experts)*m.Out*m.Rank:
		return fmt.Errorf("module %q: B has %d values, want %s out %d x rank %d: %w", m.Name, len(m.B), m.expertsX(), m.Out, m.Rank, format.ErrShape)
	case m.Experts > 0 && (m.Magnitude != nil || m.Bias != nil || m.Transposed()):
		return fmt.Errorf("module %q: stacked experts with DoRA, a lora_B bias or a transposed base: %w", m.Name, format.ErrUnsupported)
	case m.Magnitude != nil && len(m.Magnitude) != m.Out:
		return fmt.Errorf("module %q: DoRA magnitude has %d values, want out %d: %w", m.Name, len(m.Magnitude), m.Out, format.ErrShape)
	case m.Bias != nil && len(m.Bias) != m.Out:
		return fmt.Errorf("module %q: lora_B bias has %d values, want out %d: %w", m.Name, len(m.Bias), m.Out, format.ErrShape)
	}
	if s := m.Scale(); math.IsNaN(s) || math.IsInf(s, 0) {
		return fmt.Errorf("module %q: scale %v (alpha %v) is not finite: %w", m.Name, s, m.Alpha, format.ErrFormat)
	}
	for _, p := range []struct {
		what string
		v    []float32
	}{{"A", m.A}, {"B", m.B}, {"magnitude", m.Magnitude}, {"bias", m.Bias}} {
		if i := firstNonFinite(p.v); i >= 0 {
			return fmt.Errorf("module %q: %s[%d] = %v: %w", m.Name, p.what, i, p.v[i], format.ErrFormat)
		}
	}
	return nil
}

// firstNonFinite returns the index of the first NaN or Inf in v, or -1.
func firstNonFinite(v []float32) int {
	for i, x := range v {
		if x-x != 0 { // NaN or +-Inf
			return i
		}
	}
	return -1
}
