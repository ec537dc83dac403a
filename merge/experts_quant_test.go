package merge

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/x448/float16"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// TestExpertMergeRequantizes: llama.cpp's 3-D fixture adapter merged into
// the llama-quantize-made Q8_0 MoE models stays Q8_0 (requantized), and
// into the F32 models written as BF16 or F16 stays within rounding of
// W + s·B_e·A_e computed here per expert in float64: half a Q8_0 step
// (the block's own scale, read from its bytes, plus the F16 rounding of
// that scale) for Q8_0, one rounding of the value for BF16 / F16 (plus
// one float32 ulp of slack for the sum).
func TestExpertMergeRequantizes(t *testing.T) {
	for _, c := range []struct {
		stem, base string
		dt         format.DType
	}{
		{"mixtral", "q8_0", format.Invalid}, {"qwen3moe", "q8_0", format.Invalid},
		{"mixtral", "f32", format.BF16}, {"qwen3moe", "f32", format.F16},
	} {
		to := "kept"
		if c.dt.Valid() {
			to = c.dt.String()
		}
		t.Run(c.stem+"-"+c.base+"-"+to, func(t *testing.T) {
			dir := sharedDir(t, "fixtures/arch")
			basePath := filepath.Join(dir, c.stem+"-"+c.base+".gguf")
			adPath := filepath.Join(dir, c.stem+"-lora-r4.gguf")
			out := filepath.Join(t.TempDir(), "merged.gguf")
			if _, err := Merge(context.Background(), basePath, []Input{{Path: adPath, Scale: 1}}, out, Options{DType: c.dt}); err != nil {
				t.Fatal(err)
			}
			a, err := lora.ReadGGUF(adPath)
			if err != nil {
				t.Fatal(err)
			}
			base, got := openSource(t, basePath), openSource(t, out)
			checked := 0
			for _, m := range a.Modules {
				if m.Experts == 0 {
					continue
				}
				name := m.Name + ".weight"
				info, _ := format.TensorIndex(got.Tensors(), name)
				want := c.dt
				if !want.Valid() {
					want = format.Q8_0
				}
				if info.DType != want {
					t.Fatalf("%s is %v, want %v", name, info.DType, want)
				}
				w, g := floats(t, base, name), floats(t, got, name)
				raw, _ := got.TensorData(name)
				n := m.Out * m.In
				for e := range m.Experts {
					x := m.Expert(e)
					for o := range m.Out {
						for i := range m.In {
							var d float64
							for k := range m.Rank {
								d += float64(x.B[o*m.Rank+k]) * float64(x.A[k*m.In+i])
							}
							idx := e*n + o*m.In + i
							ref := float64(w[idx]) + m.Scale()*d
							var bound float64
							switch want {
							case format.Q8_0: // block idx/32: f16 scale d then 32 int8
								// round(x/d)·f16(d): d/2, plus |q| ≤ 127 times f16's rounding of d
								d := float64(float16.Frombits(uint16(raw[idx/32*34]) | uint16(raw[idx/32*34+1])<<8).Float32())
								bound = d * (0.5 + 127*0x1p-11)
							case format.BF16: // 8 significant bits
								bound = math.Ldexp(math.Abs(ref), -8)
							case format.F16: // 11 significant bits, subnormal step 2^-24
								bound = math.Max(math.Ldexp(math.Abs(ref), -11), 0x1p-25)
							}
							bound += math.Ldexp(math.Abs(ref), -23)
							if diff := math.Abs(float64(g[idx]) - ref); diff > bound {
								t.Fatalf("%s[%d,%d,%d] = %v, want %v within %.3g", name, e, o, i, g[idx], ref, bound)
							}
							checked++
						}
					}
				}
			}
			if checked == 0 {
				t.Fatal("no expert tensor checked")
			}
		})
	}
}

// TestExpertMergeF16Base: a per-expert PEFT adapter merged into llama.cpp's
// F16 conversion of the hand-written Mixtral keeps the stacks F16, each
// value within one F16 rounding of W + 2·B_e·A_e computed here (plus the
// float32 rounding of the sum before it).
func TestExpertMergeF16Base(t *testing.T) {
	base := sharedDir(t, "fixtures/hf-convert/mixtral-f16.gguf")
	x := fixtureExperts(t, sharedDir(t, "fixtures/hf-convert/hf/mixtral"))
	out := filepath.Join(t.TempDir(), "merged.gguf")
	if _, err := Merge(context.Background(), base, []Input{{Path: x.writePerExpert(t, nil), Scale: 1}}, out, Options{}); err != nil {
		t.Fatal(err)
	}
	b, g := openSource(t, base), openSource(t, out)
	for which, name := range []string{"blk.0.ffn_gate_exps.weight", "blk.0.ffn_up_exps.weight", "blk.0.ffn_down_exps.weight"} {
		if info, _ := format.TensorIndex(g.Tensors(), name); info.DType != format.F16 {
			t.Fatalf("%s is %v, want F16", name, info.DType)
		}
		w, got := floats(t, b, name), floats(t, g, name)
		for e := range x.E {
			d := x.delta(which, e)
			for i, v := range d {
				ref := float64(w[e*len(d)+i]) + v
				// one F16 rounding (half a subnormal step 2^-24 near 0) plus
				// the float32 rounding of W and ΔW before it
				bound := math.Max(math.Ldexp(math.Abs(ref), -11), 0x1p-25) + math.Ldexp(math.Abs(float64(w[e*len(d)+i]))+math.Abs(v), -22)
				if diff := math.Abs(float64(got[e*len(d)+i]) - ref); diff > bound {
					t.Fatalf("%s expert %d [%d] = %v, want %v", name, e, i, got[e*len(d)+i], ref)
				}
			}
		}
	}
}
