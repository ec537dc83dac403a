package lora

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// Expert returns expert e's pair of a stacked module as a plain 2-D module
// named "<name>[e]" whose A and B share m's memory. It panics when e is out
// of range or m is not stacked (a programmer error).
func (m *Module) Expert(e int) *Module {
	if e < 0 || e >= m.Experts {
		panic(fmt.Sprintf("lora: module %q: expert %d of %d", m.Name, e, m.Experts))
	}
	a, b := m.Rank*m.In, m.Out*m.Rank
	return &Module{
		Name: fmt.Sprintf("%s[%d]", m.Name, e),
		A:    m.A[e*a : (e+1)*a : (e+1)*a], B: m.B[e*b : (e+1)*b : (e+1)*b],
		Rank: m.Rank, In: m.In, Out: m.Out, Alpha: m.Alpha, RSLoRA: m.RSLoRA,
	}
}

// expertsX is "E x " for a stacked module, "" otherwise (for messages).
func (m *Module) expertsX() string {
	if m.Experts == 0 {
		return ""
	}
	return fmt.Sprintf("%d experts x", m.Experts)
}

// StackExperts builds a stacked module named name from one 2-D module per
// expert (nil where an expert has no update: its slices are zero). When
// the experts share rank, alpha and rsLoRA the stack keeps them; otherwise
// every expert's own scale is folded into its B, so the stack, whose rank
// is the largest expert rank (smaller ranks padded with zero rows of A and
// columns of B), has scale 1 (Alpha = Rank). All experts must share In and
// Out and be plain LoRA (no DoRA, bias or transposed base).
func StackExperts(name string, experts []*Module) (*Module, error) {
	var in, out, rank int
	for e, x := range experts {
		if x == nil {
			continue
		}
		switch {
		case x.Experts != 0 || x.Magnitude != nil || x.Bias != nil || x.Transposed():
			return nil, fmt.Errorf("module %q (expert %d of %s): only plain LoRA modules stack into experts: %w", x.Name, e, name, format.ErrUnsupported)
		case in != 0 && (x.In != in || x.Out != out):
			return nil, fmt.Errorf("module %q (expert %d of %s) is (%d,%d), other experts (%d,%d): %w", x.Name, e, name, x.Out, x.In, out, in, format.ErrShape)
		}
		in, out, rank = x.In, x.Out, max(rank, x.Rank)
	}
	if rank == 0 {
		return nil, fmt.Errorf("stacked module %s: no expert has an update: %w", name, format.ErrFormat)
	}
	E := len(experts)
	s := &Module{Name: name, Experts: E, Rank: rank, In: in, Out: out, Alpha: float64(rank),
		A: make([]float32, E*rank*in), B: make([]float32, E*out*rank)}
	var first *Module
	uniform := true // one rank and scale: kept as they are, nothing rounded
	for _, x := range experts {
		if x != nil && first == nil {
			first = x
		}
		if x != nil && (x.Rank != first.Rank || x.Alpha != first.Alpha || x.RSLoRA != first.RSLoRA) {
			uniform = false
		}
	}
	if uniform {
		s.Alpha, s.RSLoRA = first.Alpha, first.RSLoRA
	}
	for e, x := range experts {
		if x == nil {
			continue
		}
		copy(s.A[e*rank*in:], x.A) // rows k < x.Rank; the rest stay zero
		sc := x.Scale()
		if uniform {
			sc = 1
		}
		b := s.B[e*out*rank:]
		for o := range out {
			for k := range x.Rank {
				b[o*rank+k] = float32(sc * float64(x.B[o*x.Rank+k]))
			}
		}
	}
	return s, nil
}
