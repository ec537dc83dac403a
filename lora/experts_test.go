package lora

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// TestGGUFExpertAdapterFixtures: llama.cpp's 3-D expert LoRA tensors
// (lora_a ne [in, r, E], lora_b ne [r, out, E]; fixtures/arch README) read
// as one pair per expert, and write back with llama-gguf-hash's hashes.
func TestGGUFExpertAdapterFixtures(t *testing.T) {
	for _, c := range []struct{ stem, proj string }{{"mixtral", "ffn_up_exps"}, {"qwen3moe", "ffn_down_exps"}} {
		t.Run(c.stem, func(t *testing.T) {
			path := testshared.Path(t, "fixtures/arch/"+c.stem+"-lora-r4.gguf")
			a, err := ReadGGUF(path)
			if err != nil {
				t.Fatal(err)
			}
			src := openGGUF(t, path)
			module := "blk.0." + c.proj
			ia, _ := format.TensorIndex(src.Tensors(), module+".weight.lora_a")
			ib, _ := format.TensorIndex(src.Tensors(), module+".weight.lora_b")
			alpha, _ := src.Metadata().Float("adapter.lora.alpha")
			if len(ia.Shape) != 3 || len(ib.Shape) != 3 {
				t.Fatalf("fixture %s: lora_a %v, lora_b %v, want 3-D", module, ia.Shape, ib.Shape)
			}
			E, r, in, out := int(ia.Shape[0]), int(ia.Shape[1]), int(ia.Shape[2]), int(ib.Shape[1])
			m := a.Module(module)
			if m == nil || m.Experts != E || m.Rank != r || m.In != in || m.Out != out || m.Scale() != alpha/float64(r) {
				t.Fatalf("module %s = %+v, want %d experts of rank %d, (%d,%d), scale %v", module, m, E, r, out, in, alpha/float64(r))
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			aOff := tensorOffset(t, src, module+".weight.lora_a", raw)
			bOff := tensorOffset(t, src, module+".weight.lora_b", raw)
			// numpy A (E, r, in), B (E, out, r): element [e, k, i] at ((e·r+k)·in+i)·4.
			k, i, o := r-1, in-1, out/2
			for _, e := range []int{0, E - 1} {
				x := m.Expert(e)
				if got, want := x.A[k*in+i], f32At(raw, aOff+((e*r+k)*in+i)*4); got != want {
					t.Errorf("expert %d A[%d,%d] = %v, want %v", e, k, i, got, want)
				}
				if got, want := x.B[o*r+k], f32At(raw, bOff+((e*out+o)*r+k)*4); got != want {
					t.Errorf("expert %d B[%d,%d] = %v, want %v", e, o, k, got, want)
				}
			}
			back := filepath.Join(t.TempDir(), "back.gguf")
			if err := WriteGGUF(a, back, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			b := openGGUF(t, back)
			hashes := testshared.TensorHashes(t, testshared.Path(t, "fixtures/arch/tensor-sha256/"+c.stem+"-lora-r4.txt"))
			if len(b.Tensors()) != len(hashes) {
				t.Fatalf("%d tensors, want %d", len(b.Tensors()), len(hashes))
			}
			for _, ti := range b.Tensors() {
				data, _ := b.TensorData(ti.Name)
				if got, want := sha256Hex(data), hashes[ti.Name]; got != want {
					t.Errorf("%s: sha256 %s, want llama-gguf-hash's %s", ti.Name, got, want)
				}
			}
		})
	}
}

func openGGUF(t *testing.T, path string) format.Source {
	t.Helper()
	src, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// tensorOffset finds a tensor's data in the raw file by its bytes (the
// reader's offsets are what is under test).
func tensorOffset(t *testing.T, src format.Source, name string, raw []byte) int {
	t.Helper()
	data, err := src.TensorData(name)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off+len(data) <= len(raw); off += 32 { // GGUF aligns data to 32
		if string(raw[off:off+len(data)]) == string(data) {
			return off
		}
	}
	t.Fatalf("%s: data not found in the file", name)
	return 0
}

func f32At(b []byte, off int) float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(b[off:]))
}

// peftParamConfig targets both 3-D expert parameters of transformers 5's
// MoE block, as PEFT's target_parameters does.
const peftParamConfig = `{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": [],
"target_parameters": ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]}`

// TestPEFTTargetParameters: PEFT's ParamWrapper pairs (lora_A (r·E, in),
// lora_B (out, r·E); the second parameter of a module under .base_layer)
// read as per-expert pairs with dW_e = (alpha/r)·einsum("o r e, e r i ->
// e o i", B.reshape(out, r, E), A.reshape(E, r, in)), computed here by
// hand from the file's arrays, and write back to the same tensors.
func TestPEFTTargetParameters(t *testing.T) {
	const E, r, hidden, ff = 3, 2, 4, 2
	const p = "base_model.model.model.layers.0.mlp.experts."
	gA, gB := seq(r*E*hidden, -1), seq(2*ff*r*E, 0.5) // gate_up_proj: (E, 2ff, hidden)
	dA, dB := seq(r*E*ff, 2), seq(hidden*r*E, -3)     // down_proj: (E, hidden, ff)
	dir := writePEFTDir(t, peftParamConfig,
		f32Tensor(p+"base_layer.lora_A.weight", []int64{r * E, hidden}, gA),
		f32Tensor(p+"base_layer.lora_B.weight", []int64{2 * ff, r * E}, gB),
		f32Tensor(p+"lora_A.weight", []int64{r * E, ff}, dA),
		f32Tensor(p+"lora_B.weight", []int64{hidden, r * E}, dB))
	a, err := ReadPEFT(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		in, out int
		A, B    []float32
	}{
		{"model.layers.0.mlp.experts.gate_up_proj", hidden, 2 * ff, gA, gB},
		{"model.layers.0.mlp.experts.down_proj", ff, hidden, dA, dB},
	} {
		m := a.Module(c.name)
		if m == nil || !m.Param || m.Experts != E || m.Rank != r || m.In != c.in || m.Out != c.out {
			t.Fatalf("module %s = %+v, want a parameter of %d experts, rank %d, (%d,%d)", c.name, m, E, r, c.out, c.in)
		}
		d := m.Delta()
		for e := range E {
			for o := range c.out {
				for i := range c.in {
					var want float64
					for k := range r {
						want += float64(c.B[o*r*E+k*E+e]) * float64(c.A[(e*r+k)*c.in+i])
					}
					want *= 2 // alpha 4 / r 2
					if got := d[(e*c.out+o)*c.in+i]; math.Abs(float64(got)-want) > 1e-5*math.Max(1, math.Abs(want)) {
						t.Fatalf("%s dW[%d,%d,%d] = %v, want %v", c.name, e, o, i, got, want)
					}
				}
			}
		}
	}
	out := filepath.Join(t.TempDir(), "back")
	if err := WritePEFT(a, out, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	in, back := openGGUF(t, filepath.Join(dir, peftWeightsFile)), openGGUF(t, filepath.Join(out, peftWeightsFile))
	if len(back.Tensors()) != len(in.Tensors()) {
		t.Fatalf("written %d tensors, read %d", len(back.Tensors()), len(in.Tensors()))
	}
	for _, ti := range in.Tensors() {
		x, _ := in.TensorData(ti.Name)
		y, err := back.TensorData(ti.Name)
		if err != nil || string(x) != string(y) {
			t.Errorf("tensor %s does not come back (%v)", ti.Name, err)
		}
	}
	b, err := ReadPEFT(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Config.TargetParameters, a.Config.TargetParameters) {
		t.Errorf("target_parameters %v, want %v", b.Config.TargetParameters, a.Config.TargetParameters)
	}
}

// TestPEFTTargetParametersBad: pairs that PEFT's layout cannot explain are
// refused naming the parameter.
func TestPEFTTargetParametersBad(t *testing.T) {
	const p = "base_model.model.model.layers.0.mlp.experts."
	for _, c := range []struct {
		name, config string
		ts           []outTensor
		want         error
	}{
		{"rows not a multiple of r", `{"peft_type": "LORA", "r": 4, "target_parameters": ["mlp.experts.down_proj"]}`,
			[]outTensor{f32Tensor(p+"lora_A.weight", []int64{6, 2}, seq(12, 0)), f32Tensor(p+"lora_B.weight", []int64{4, 6}, seq(24, 0))},
			format.ErrShape},
		{"two pairs, one parameter", `{"peft_type": "LORA", "r": 2, "target_parameters": ["mlp.experts.down_proj"]}`,
			[]outTensor{f32Tensor(p+"lora_A.weight", []int64{6, 2}, seq(12, 0)), f32Tensor(p+"lora_B.weight", []int64{4, 6}, seq(24, 0)),
				f32Tensor(p+"base_layer.lora_A.weight", []int64{6, 2}, seq(12, 0)), f32Tensor(p+"base_layer.lora_B.weight", []int64{4, 6}, seq(24, 0))},
			format.ErrFormat},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadPEFT(writePEFTDir(t, c.config, c.ts...))
			if !errors.Is(err, c.want) {
				t.Errorf("ReadPEFT = %v, want %v", err, c.want)
			}
		})
	}
}

// TestStackExperts: experts of different ranks and scales stack into one
// module whose per-expert updates are each expert's own (scales folded
// into B, smaller ranks padded with zeros), an expert without a module is
// zero, and experts that disagree on shape are refused.
func TestStackExperts(t *testing.T) {
	x0 := &Module{Name: "e0", Rank: 1, In: 3, Out: 2, Alpha: 2, A: []float32{1, 2, 3}, B: []float32{1, -1}}
	x2 := &Module{Name: "e2", Rank: 2, In: 3, Out: 2, Alpha: 2, A: []float32{1, 0, 0, 0, 1, 0}, B: []float32{1, 2, 3, 4}}
	s, err := StackExperts("blk.0.ffn_up_exps", []*Module{x0, nil, x2})
	if err != nil {
		t.Fatal(err)
	}
	if s.Experts != 3 || s.Rank != 2 {
		t.Fatalf("stack: %d experts of rank %d, want 3 of rank 2", s.Experts, s.Rank)
	}
	// By hand: expert 0 = 2·[1,-1]ᵀ[1,2,3]; expert 2 = 1·[[1,2],[3,4]]·[[1,0,0],[0,1,0]].
	want := []float32{2, 4, 6, -2, -4, -6, 0, 0, 0, 0, 0, 0, 1, 2, 0, 3, 4, 0}
	if got := s.Delta(); !slices.Equal(got, want) {
		t.Errorf("Delta = %v, want %v", got, want)
	}
	bad := &Module{Name: "e1", Rank: 1, In: 4, Out: 2, Alpha: 1, A: make([]float32, 4), B: make([]float32, 2)}
	if _, err := StackExperts("blk.0.ffn_up_exps", []*Module{x0, bad}); !errors.Is(err, format.ErrShape) {
		t.Errorf("StackExperts(mismatched shapes) = %v, want ErrShape", err)
	}
}

// TestOpenWithExperts: LoRA on llama.cpp's stacked experts (*_exps, 3-D
// lora_a / lora_b) is read expert by expert by Open (and OpenWithExperts,
// the same), its values those of the file in row-major (E, r, in) and
// (E, out, r) order.
func TestOpenWithExperts(t *testing.T) {
	path := filepath.Join(sharedDir(t, "fixtures/arch"), "mixtral-lora-r4.gguf")
	a, err := OpenWithExperts(path)
	if err != nil {
		t.Fatal(err)
	}
	src, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	experts := 0
	for _, m := range a.Modules {
		if !strings.HasSuffix(m.Name, "_exps") {
			if m.Experts != 0 {
				t.Errorf("%s: %d experts, want 0", m.Name, m.Experts)
			}
			continue
		}
		experts++
		infoA, _ := format.TensorIndex(src.Tensors(), m.Name+ggufSufA)
		infoB, _ := format.TensorIndex(src.Tensors(), m.Name+ggufSufB)
		if m.Experts != int(infoA.Shape[0]) || m.Rank != int(infoA.Shape[1]) || m.In != int(infoA.Shape[2]) || m.Out != int(infoB.Shape[1]) {
			t.Errorf("%s: experts %d rank %d in %d out %d; lora_a %v, lora_b %v", m.Name, m.Experts, m.Rank, m.In, m.Out, infoA.Shape, infoB.Shape)
		}
		rawA, _ := readFloats(src, infoA)
		rawB, _ := readFloats(src, infoB)
		for i := range rawA {
			if rawA[i] != m.A[i] {
				t.Fatalf("%s: A[%d] = %v, file %v", m.Name, i, m.A[i], rawA[i])
			}
		}
		for i := range rawB {
			if rawB[i] != m.B[i] {
				t.Fatalf("%s: B[%d] = %v, file %v", m.Name, i, m.B[i], rawB[i])
			}
		}
	}
	if experts == 0 {
		t.Error("no module on stacked experts")
	}
}
