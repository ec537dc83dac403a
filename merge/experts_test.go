package merge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/model"
)

// expertLoRA is one rank-r update per expert of a MoE layer, for the
// fused gate|up parameter (E, 2·ff, hidden) and down (E, hidden, ff).
type expertLoRA struct {
	E, r, hidden, ff, layer int
	gA, gB, dA, dB          [][]float32 // per expert: gA (r, hidden), gB (2ff, r), dA (r, ff), dB (hidden, r)
}

// fixtureExperts returns a rank-2 update for layer 0 of a MoE base, its
// sizes read from the base: the stacked blk.0.ffn_gate_exps (E, ff,
// hidden) of a GGUF, or the per-expert w1 (ff, hidden) of a Hugging Face
// Mixtral directory.
func fixtureExperts(t *testing.T, base string) *expertLoRA {
	t.Helper()
	if filepath.Ext(base) == ".gguf" {
		info, ok := format.TensorIndex(openSource(t, base).Tensors(), "blk.0.ffn_gate_exps.weight")
		if !ok || len(info.Shape) != 3 {
			t.Fatalf("%s: no stacked blk.0.ffn_gate_exps.weight", base)
		}
		return newExpertLoRA(int(info.Shape[0]), 2, int(info.Shape[2]), int(info.Shape[1]), 0)
	}
	src := openSource(t, filepath.Join(base, "model.safetensors"))
	E := 0
	var w1 format.TensorInfo
	for ; ; E++ {
		info, ok := format.TensorIndex(src.Tensors(), fmt.Sprintf("model.layers.0.block_sparse_moe.experts.%d.w1.weight", E))
		if !ok {
			break
		}
		w1 = info
	}
	if E == 0 {
		t.Fatalf("%s: no experts in layer 0", base)
	}
	return newExpertLoRA(E, 2, int(w1.Shape[1]), int(w1.Shape[0]), 0)
}

func newExpertLoRA(E, r, hidden, ff, layer int) *expertLoRA {
	rng := rand.New(rand.NewPCG(16, uint64(E*hidden+ff)))
	draw := func(n int, s float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(s * rng.NormFloat64())
		}
		return v
	}
	x := &expertLoRA{E: E, r: r, hidden: hidden, ff: ff, layer: layer}
	for range E {
		x.gA, x.gB = append(x.gA, draw(r*hidden, 0.1)), append(x.gB, draw(2*ff*r, 0.05))
		x.dA, x.dB = append(x.dA, draw(r*ff, 0.1)), append(x.dB, draw(hidden*r, 0.05))
	}
	return x
}

// expertLoRAConfig: alpha/r = 2, a power of two, so that no form of the
// adapter rounds differently from another.
const expertLoRAConfig = `{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": %s, "target_parameters": %s}`

// writePerExpert writes the update as PEFT saves LoRA on one module per
// expert (transformers 4 Mixtral: w1 gate, w3 up, w2 down).
// Expert e is written as expert index(e) (nil: e).
func (x *expertLoRA) writePerExpert(t *testing.T, index func(e int) int) string {
	dir := t.TempDir()
	var ts []tensorSpec
	r, ff := int64(x.r), x.ff
	for e := range x.E {
		ie := e
		if index != nil {
			ie = index(e)
		}
		p := fmt.Sprintf("base_model.model.model.layers.%d.block_sparse_moe.experts.%d.", x.layer, ie)
		ts = append(ts,
			tensorSpec{p + "w1.lora_A.weight", []int64{r, int64(x.hidden)}, x.gA[e]},
			tensorSpec{p + "w1.lora_B.weight", []int64{int64(ff), r}, x.gB[e][:ff*x.r]},
			tensorSpec{p + "w3.lora_A.weight", []int64{r, int64(x.hidden)}, x.gA[e]},
			tensorSpec{p + "w3.lora_B.weight", []int64{int64(ff), r}, x.gB[e][ff*x.r:]},
			tensorSpec{p + "w2.lora_A.weight", []int64{r, int64(ff)}, x.dA[e]},
			tensorSpec{p + "w2.lora_B.weight", []int64{int64(x.hidden), r}, x.dB[e]})
	}
	writeSafetensors(t, filepath.Join(dir, "adapter_model.safetensors"), ts)
	cfg := fmt.Sprintf(expertLoRAConfig, `["w1", "w2", "w3"]`, "null")
	if err := os.WriteFile(filepath.Join(dir, "adapter_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeParams writes the same update as PEFT's target_parameters saves it
// (ParamWrapper, peft/tuners/lora/layer.py): lora_A (r·E, in) with A_e in
// rows e·r.., lora_B (out, r·E) with B_e[:, k] in column k·E+e;
// gate_up_proj, wrapped first, under .base_layer.
func (x *expertLoRA) writeParams(t *testing.T) string {
	dir := t.TempDir()
	stackA := func(as [][]float32) []float32 {
		var v []float32
		for _, a := range as {
			v = append(v, a...)
		}
		return v
	}
	interleaveB := func(bs [][]float32, out int) []float32 {
		v := make([]float32, out*x.r*x.E)
		for e, b := range bs {
			for o := range out {
				for k := range x.r {
					v[o*x.r*x.E+k*x.E+e] = b[o*x.r+k]
				}
			}
		}
		return v
	}
	p := fmt.Sprintf("base_model.model.model.layers.%d.mlp.experts.", x.layer)
	rE := int64(x.r * x.E)
	writeSafetensors(t, filepath.Join(dir, "adapter_model.safetensors"), []tensorSpec{
		{p + "base_layer.lora_A.weight", []int64{rE, int64(x.hidden)}, stackA(x.gA)},
		{p + "base_layer.lora_B.weight", []int64{int64(2 * x.ff), rE}, interleaveB(x.gB, 2*x.ff)},
		{p + "lora_A.weight", []int64{rE, int64(x.ff)}, stackA(x.dA)},
		{p + "lora_B.weight", []int64{int64(x.hidden), rE}, interleaveB(x.dB, x.hidden)},
	})
	cfg := fmt.Sprintf(expertLoRAConfig, "[]", `["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]`)
	if err := os.WriteFile(filepath.Join(dir, "adapter_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// delta is expert e's update of one projection (0 gate, 1 up, 2 down),
// 2·B·A in float64, row-major (out, in).
func (x *expertLoRA) delta(which, e int) []float64 {
	A, B, in, out, off := x.gA[e], x.gB[e], x.hidden, x.ff, 0
	switch which {
	case 1:
		off = x.ff
	case 2:
		A, B, in, out = x.dA[e], x.dB[e], x.ff, x.hidden
	}
	d := make([]float64, out*in)
	for o := range out {
		for i := range in {
			var s float64
			for k := range x.r {
				s += float64(B[(off+o)*x.r+k]) * float64(A[k*in+i])
			}
			d[o*in+i] = 2 * s
		}
	}
	return d
}

// TestExpertAdaptersMergeAlike: a PEFT adapter on one module per expert
// and the same update as a target_parameters adapter on the fused 3-D
// parameters merge into the same bytes, on llama.cpp's stacked experts
// (GGUF) and on a Hugging Face checkpoint with one tensor per expert;
// every expert's merged weights are W + 2·B_e·A_e computed here.
func TestExpertAdaptersMergeAlike(t *testing.T) {
	for _, c := range []struct {
		name, base string
		tensor     func(which, layer, e int) (name string, slice int)
	}{
		{"gguf", "fixtures/arch/mixtral-f32.gguf", func(which, l, e int) (string, int) {
			return fmt.Sprintf("blk.%d.ffn_%s_exps.weight", l, []string{"gate", "up", "down"}[which]), e
		}},
		{"hf", "fixtures/hf-convert/hf/mixtral", func(which, l, e int) (string, int) {
			return fmt.Sprintf("model.layers.%d.block_sparse_moe.experts.%d.%s.weight", l, e, []string{"w1", "w3", "w2"}[which]), 0
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := sharedDir(t, c.base)
			x := fixtureExperts(t, base)
			outs := make([]string, 2)
			for i, ad := range []string{x.writePerExpert(t, nil), x.writeParams(t)} {
				outs[i] = filepath.Join(t.TempDir(), "merged"+filepath.Ext(base))
				if _, err := Merge(context.Background(), base, []Input{{Path: ad, Scale: 1}}, outs[i], Options{}); err != nil {
					t.Fatal(err)
				}
			}
			if c.name == "hf" {
				for i := range outs {
					outs[i] = filepath.Join(outs[i], "model.safetensors")
				}
				base = filepath.Join(base, "model.safetensors")
			}
			b, p, w := openSource(t, outs[0]), openSource(t, outs[1]), openSource(t, base)
			for _, ti := range w.Tensors() {
				x, _ := b.TensorData(ti.Name)
				y, _ := p.TensorData(ti.Name)
				if string(x) != string(y) {
					t.Errorf("%s: per-expert and target_parameters merges differ", ti.Name)
				}
			}
			for which := range 3 {
				for e := range x.E {
					name, slice := c.tensor(which, x.layer, e)
					d := x.delta(which, e)
					n := len(d)
					got, orig := floats(t, b, name)[slice*n:][:n], floats(t, w, name)[slice*n:][:n]
					var worst float64
					for i := range d {
						worst = math.Max(worst, math.Abs(float64(got[i])-(float64(orig[i])+d[i])))
					}
					if worst > llamaF32Tol {
						t.Errorf("%s expert %d: max |merged - (W + 2·B·A)| = %.3g, want <= %g", name, e, worst, llamaF32Tol)
					}
				}
			}
		})
	}
}

// TestExpertAdaptersBadInput: an adapter for an expert the base does not
// have, a 3-D adapter with another expert count than the base's stack, and
// an FP8 block-scaled base are refused naming them, leaving no output.
func TestExpertAdaptersBadInput(t *testing.T) {
	base := sharedDir(t, "fixtures/arch/mixtral-f32.gguf")
	x := fixtureExperts(t, base)
	E := x.E
	missing := x.writePerExpert(t, func(e int) int { return e + e/(E-1) }) // the last expert written as expert E

	fewer := filepath.Join(t.TempDir(), "fewer.gguf") // E-1 experts of rank 2 on a stack of E
	a := &lora.Adapter{Arch: "llama", Modules: []*lora.Module{{Name: "blk.0.ffn_up_exps", Experts: E - 1, Rank: 2, In: x.hidden, Out: x.ff, Alpha: 2,
		A: make([]float32, (E-1)*2*x.hidden), B: make([]float32, (E-1)*x.ff*2)}}}
	if err := lora.WriteGGUF(a, fewer, lora.WriteOptions{}); err != nil {
		t.Fatal(err)
	}

	fp8 := t.TempDir()
	writeSafetensors(t, filepath.Join(fp8, "model.safetensors"), []tensorSpec{
		{"model.layers.0.block_sparse_moe.experts.0.w1.weight", []int64{int64(x.ff), int64(x.hidden)}, make([]float32, x.ff*x.hidden)},
		{"model.layers.0.block_sparse_moe.experts.0.w1.weight_scale_inv", []int64{1, 1}, []float32{1}},
	})
	for _, c := range []struct {
		name, base, adapter string
		want                error
		say                 string
	}{
		{"adapter for a missing expert", base, missing, format.ErrShape, fmt.Sprintf("adapts expert %d, but the base has %d experts", E, E)},
		{"expert count of a 3-D adapter", base, fewer, format.ErrShape, "blk.0.ffn_up_exps.weight"},
		{"FP8 block-scaled base", fp8, x.writePerExpert(t, nil), format.ErrUnsupported, "weight_scale_inv"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.gguf")
			_, err := Merge(context.Background(), c.base, []Input{{Path: c.adapter, Scale: 1}}, out, Options{})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.say) {
				t.Errorf("Merge = %v, want %v naming %q", err, c.want, c.say)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Error("failed merge left an output")
			}
		})
	}
}

// TestExpertMergeLogits: a PEFT per-expert adapter (llama.cpp names after
// convert.ToGGUFNames, experts stacked) applied at run time and the model
// it merges into compute the same logits (model's own forward pass, both
// sides; the merge is per tensor checked against W + 2·B_e·A_e above).
func TestExpertMergeLogits(t *testing.T) {
	base := sharedDir(t, "fixtures/arch/mixtral-f32.gguf")
	x := fixtureExperts(t, base)
	for _, ad := range []string{x.writePerExpert(t, nil), x.writeParams(t)} {
		out := filepath.Join(t.TempDir(), "merged.gguf")
		if _, err := Merge(context.Background(), base, []Input{{Path: ad, Scale: 1}}, out, Options{}); err != nil {
			t.Fatal(err)
		}
		a, err := lora.Open(ad)
		if err != nil {
			t.Fatal(err)
		}
		if err := convert.ToGGUFNames(a, base); err != nil {
			t.Fatal(err)
		}
		ids := []int{1, 2, 3, 4, 5}
		rt := loadModel(t, base)
		if err := rt.ApplyAdapter(a, 1); err != nil {
			t.Fatal(err)
		}
		want, err := rt.Logits(ids)
		if err != nil {
			t.Fatal(err)
		}
		got, err := loadModel(t, out).Logits(ids)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := loadModel(t, base).Logits(ids)
		t.Logf("merged vs runtime: %.3g", maxAbsDiff(got, want))
		if d := maxAbsDiff(got, want); d > mergedLogitsTol {
			t.Errorf("%s: merged logits differ from runtime LoRA by %.3g, want <= %g", ad, d, mergedLogitsTol)
		}
		if d := maxAbsDiff(got, plain); d < 100*mergedLogitsTol {
			t.Errorf("%s: the adapter moves the logits by only %.3g", ad, d)
		}
	}
}

// mergedLogitsTol: runtime LoRA adds s·B(Ax) where the merged weight holds
// W + s·BA rounded to float32; over two layers the logits agree to a few
// float32 ulps (measured 1.2e-7).
const mergedLogitsTol = 1e-6

func loadModel(t *testing.T, path string) *model.Model {
	t.Helper()
	m, err := model.Load(openSource(t, path), model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestParamsMergeIntoFusedBase: a target_parameters adapter merged into a
// checkpoint in transformers 5's fused layout (mlp.experts.gate_up_proj
// (E, 2·I, H), down_proj (E, H, I)) updates those tensors in place, each
// expert's slice equal to what merging into the per-expert checkpoint
// gives that expert's w1 | w3 and w2.
func TestParamsMergeIntoFusedBase(t *testing.T) {
	perExpert := sharedDir(t, "fixtures/hf-convert/hf/mixtral")
	x := fixtureExperts(t, perExpert)
	E, I, H := x.E, int64(x.ff), int64(x.hidden)
	ad := x.writeParams(t)
	src := openSource(t, filepath.Join(perExpert, "model.safetensors"))
	var gu, dn []float32
	for e := range E {
		p := fmt.Sprintf("model.layers.0.block_sparse_moe.experts.%d.", e)
		gu = append(append(gu, floats(t, src, p+"w1.weight")...), floats(t, src, p+"w3.weight")...)
		dn = append(dn, floats(t, src, p+"w2.weight")...)
	}
	fused := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(perExpert, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fused, "config.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	writeSafetensors(t, filepath.Join(fused, "model.safetensors"), []tensorSpec{
		{"model.layers.0.mlp.experts.down_proj", []int64{int64(E), H, I}, dn},
		{"model.layers.0.mlp.experts.gate_up_proj", []int64{int64(E), 2 * I, H}, gu},
	})
	outF, outP := filepath.Join(t.TempDir(), "f"), filepath.Join(t.TempDir(), "p")
	for _, c := range [][2]string{{fused, outF}, {perExpert, outP}} {
		if _, err := Merge(context.Background(), c[0], []Input{{Path: ad, Scale: 1}}, c[1], Options{}); err != nil {
			t.Fatal(err)
		}
	}
	f, p := openSource(t, filepath.Join(outF, "model.safetensors")), openSource(t, filepath.Join(outP, "model.safetensors"))
	mgu, mdn := floats(t, f, "model.layers.0.mlp.experts.gate_up_proj"), floats(t, f, "model.layers.0.mlp.experts.down_proj")
	for e := range E {
		q := fmt.Sprintf("model.layers.0.block_sparse_moe.experts.%d.", e)
		w1, w3, w2 := floats(t, p, q+"w1.weight"), floats(t, p, q+"w3.weight"), floats(t, p, q+"w2.weight")
		n := len(w1)
		if maxAbsDiff(mgu[2*e*n:(2*e+1)*n], w1) != 0 || maxAbsDiff(mgu[(2*e+1)*n:(2*e+2)*n], w3) != 0 || maxAbsDiff(mdn[e*len(w2):(e+1)*len(w2)], w2) != 0 {
			t.Errorf("expert %d: fused merge differs from the per-expert merge", e)
		}
	}
	if maxAbsDiff(mgu, gu) == 0 {
		t.Error("the fused base was not changed")
	}
}

// TestTargetParametersOutput: llama.cpp's 3-D fixture adapters converted
// to PEFT target_parameters (gate and up fused block-diagonally into
// gate_up_proj) merge into the fixture bases to exactly the bytes the
// original adapters merge to.
func TestTargetParametersOutput(t *testing.T) {
	for _, stem := range []string{"mixtral", "qwen3moe"} {
		t.Run(stem, func(t *testing.T) {
			dir := sharedDir(t, "fixtures/arch")
			base, ad := filepath.Join(dir, stem+"-f32.gguf"), filepath.Join(dir, stem+"-lora-r4.gguf")
			peft := filepath.Join(t.TempDir(), "peft")
			if err := convert.Adapter(ad, peft, convert.AdapterOptions{To: "peft", Base: base, TargetParameters: true}); err != nil {
				t.Fatal(err)
			}
			p, err := lora.Open(peft)
			if err != nil {
				t.Fatal(err)
			}
			params := 0
			for _, m := range p.Modules {
				if m.Param {
					params++
				}
			}
			if params == 0 || len(p.Config.TargetParameters) == 0 {
				t.Fatalf("no target_parameters module in %v", p.Config.TargetParameters)
			}
			outs := []string{filepath.Join(t.TempDir(), "a.gguf"), filepath.Join(t.TempDir(), "b.gguf")}
			for i, in := range []string{ad, peft} {
				if _, err := Merge(context.Background(), base, []Input{{Path: in, Scale: 1}}, outs[i], Options{}); err != nil {
					t.Fatal(err)
				}
			}
			x, y := openSource(t, outs[0]), openSource(t, outs[1])
			for _, ti := range x.Tensors() {
				a, _ := x.TensorData(ti.Name)
				b, _ := y.TensorData(ti.Name)
				if string(a) != string(b) {
					t.Errorf("%s: the target_parameters form merges differently", ti.Name)
				}
			}
		})
	}
}
