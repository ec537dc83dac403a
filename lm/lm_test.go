package lm

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/analyze"
	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/resolve"
)

// Bounds on |logit difference| between a model running an adapter at run
// time (W·x + s·B·(A·x)) and the same model with the adapter merged
// ((W + s·B·A)·x): float32 in two summation orders. Measured against
// lorakit's and llama-export-lora's merges: llama 4.2e-7, gpt2 8.5e-6.
const (
	sameTolLlama = 2e-6
	sameTolGPT2  = 3e-5
)

// TestSameTensorEverywhere: a PEFT adapter (Hugging Face names) lands on
// the same base tensors when attached at run time and when merged, into a
// GGUF base or into the same base as a Hugging Face directory, so the
// logits agree with the merged models lorakit writes and with llama.cpp's
// llama-export-lora merge of the same update. The PEFT adapters are made
// from the llama.cpp fixtures: GPT-2's as Conv1D modules (fan_in_fan_out,
// stored (in, out)) and llama's with q/k rows in Hugging Face's order, so
// both the transposed layout and the RoPE permutation are exercised.
func TestSameTensorEverywhere(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	g := func(s string) string { return filepath.Join(fx, s+".gguf") }
	cases := []struct {
		base, adapter, merged string
		want                  string // a module name the PEFT adapter must have
		conv1D                bool
		tol                   float64
	}{
		{"gpt2-f32", "gpt2-lora-r4", "gpt2-merged-f32", "c_attn", true, sameTolGPT2},
		{"llama-f32", "llama-lora-r8", "llama-merged-f32", "q_proj", false, sameTolLlama},
	}
	opts := model.Options{KeepQuantized: true, GELUF16Table: true}
	prompt := []int{1, 2, 3, 4, 5}
	for _, c := range cases {
		t.Run(c.base, func(t *testing.T) {
			dir := t.TempDir()
			a, err := lora.Open(g(c.adapter))
			if err != nil {
				t.Fatal(err)
			}
			if err := convert.ToHFNames(a, g(c.base)); err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, m := range a.Modules {
				if strings.Contains(m.Name, c.want) {
					found = true
					if m.FanInFanOut != c.conv1D {
						t.Fatalf("module %s: fan_in_fan_out %v, want %v", m.Name, m.FanInFanOut, c.conv1D)
					}
				}
			}
			if !found {
				t.Fatalf("PEFT adapter has no %s module: %v", c.want, a.Modules[0].Name)
			}
			peft := filepath.Join(dir, "peft")
			if err := lora.Write(a, peft, lora.KindPEFT, lora.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			merged := filepath.Join(dir, "merged.gguf")
			if _, err := merge.Merge(context.Background(), g(c.base), []merge.Input{{Path: peft, Scale: 1}}, merged, merge.Options{}); err != nil {
				t.Fatal(err)
			}
			sameTargets(t, g(c.base), peft, merged)
			// The same base as a Hugging Face directory: Hugging Face names,
			// GPT-2's Conv1D stored (in, out), llama's q/k rows unpermuted.
			hf, mergedHF := filepath.Join(dir, "hf"), filepath.Join(dir, "merged-hf")
			if err := convert.Model(context.Background(), g(c.base), hf, convert.ModelOptions{To: "hf"}); err != nil {
				t.Fatal(err)
			}
			if _, err := merge.Merge(context.Background(), hf, []merge.Input{{Path: peft, Scale: 1}}, mergedHF, merge.Options{}); err != nil {
				t.Fatal(err)
			}
			sameTargets(t, hf, peft, mergedHF)
			logits := func(path string, adapters ...merge.Input) []float32 {
				t.Helper()
				l, err := Open(path, Options{Adapters: adapters, Model: opts})
				if err != nil {
					t.Fatal(err)
				}
				out, err := l.Model.Logits(prompt)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			runtime := logits(g(c.base), merge.Input{Path: peft, Scale: 1})
			for _, ref := range []struct {
				name   string
				logits []float32
			}{
				{"lorakit merge of the PEFT adapter", logits(merged)},
				{"llama-export-lora merge (" + c.merged + ")", logits(g(c.merged))},
				{"the llama.cpp adapter at run time", logits(g(c.base), merge.Input{Path: g(c.adapter), Scale: 1})},
				{"lorakit merge into the Hugging Face directory", logits(mergedHF)},
				{"the PEFT adapter at run time on the Hugging Face directory", logits(hf, merge.Input{Path: peft, Scale: 1})},
			} {
				d := maxDiff(runtime, ref.logits)
				t.Logf("%s: max |diff| %.2g", ref.name, d)
				if d > c.tol {
					t.Errorf("PEFT adapter at run time vs %s: max |logit diff| %g > %g", ref.name, d, c.tol)
				}
			}
			if d := maxDiff(runtime, logits(g(c.base))); d < 100*c.tol {
				t.Errorf("the adapter changes the logits by only %g: the comparison proves nothing", d)
			}
		})
	}
}

// mergeTol bounds |merged − (W + s·B·A)| per element: merge rounds its sum
// to float32, analyze's product is float64; measured 2.5e-8 (gpt2) and
// 2.2e-8 (llama), a wrong tensor would differ by about |W|.
const mergeTol = 1e-7

// sameTargets: analyze (through analyze.Base) finds for every module of the
// adapter at adapterPath the base weight W that merge changed by exactly
// that module's update in the merged file, so analysis, merge and the
// runtime LoRA above all land on the same tensor.
func sameTargets(t *testing.T, basePath, adapterPath, mergedPath string) {
	t.Helper()
	b, err := resolve.Open(basePath)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mb, err := resolve.Open(mergedPath)
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	a, err := lora.Open(adapterPath)
	if err != nil {
		t.Fatal(err)
	}
	ab := analyze.NewBase(b)
	mods, err := ab.Modules(a, adapterPath)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, m := range a.Modules {
		w, err := ab.Weight(mods[i].Name)
		if err != nil {
			t.Fatal(err)
		}
		tgt, err := mb.Module(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := mb.Weight(tgt)
		if err != nil {
			t.Fatal(err)
		}
		var d mat.Dense
		d.Mul(mods[i].B, mods[i].A)
		d.Scale(mods[i].Scale, &d)
		d.Add(&d, w)
		for k, v := range got {
			worst = max(worst, math.Abs(float64(v)-d.RawMatrix().Data[k]))
		}
	}
	t.Logf("%d modules: merged − (W + ΔW) max |diff| %.2g", len(a.Modules), worst)
	if worst > mergeTol {
		t.Errorf("analyze's base weight plus the update differs from merge's result by %g > %g", worst, mergeTol)
	}
}

// TestOpenBad: an adapter as the model, an adapter for another model, a
// missing one and two on the same projection are refused with the sentinel
// that says why.
func TestOpenBad(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	g := func(s string) string { return filepath.Join(fx, s+".gguf") }
	cases := []struct {
		name, path string
		adapters   []merge.Input
		want       error
	}{
		{"adapter as model", g("llama-lora-r8"), nil, format.ErrUnsupported},
		{"llama adapter on gpt2", g("gpt2-f32"), []merge.Input{{Path: g("llama-lora-r8"), Scale: 1}}, format.ErrShape},
		{"missing adapter", g("gpt2-f32"), []merge.Input{{Path: filepath.Join(t.TempDir(), "none"), Scale: 1}}, format.ErrNotFound},
		{"two adapters on one projection", g("gpt2-f32"), []merge.Input{{Path: g("gpt2-lora-r4"), Scale: 1}, {Path: g("gpt2-lora-r4"), Scale: 1}}, format.ErrExists},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(c.path, Options{Adapters: c.adapters, Model: Run})
			if !errors.Is(err, c.want) {
				t.Fatalf("Open = %v, want %v", err, c.want)
			}
		})
	}
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
