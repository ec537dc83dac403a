package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/lora"
)

// archFamilies are the stems of ../shared/fixtures/arch: the tiny
// llama.cpp-made models of every family beyond GPT-2 and Llama 2.
var archFamilies = []string{"qwen2", "qwen3", "gemma2", "gemma3", "phi3", "llama31", "mixtral", "qwen3moe"}

// argmax is the index of the largest value.
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// tolFamilyLogits: logits (which emulate llama.cpp's activation rounding
// for Q8_0 and its F16 GELU table) against llama.cpp's, F32, Q8_0 and
// runtime adapters (MoE experts included): a few times the 4.6e-7 measured
// (gemma3 F32; summation order).
const tolFamilyLogits = 2e-6

// TestFamiliesRunCLI: logits, generate and score run on each family's F32
// and Q8_0 fixture, and on the F32 one with its adapter at run time (MoE
// expert adapters included), and give finite results; the logits are
// llama.cpp's within tolFamilyLogits.
func TestFamiliesRunCLI(t *testing.T) {
	dir := sharedPath(t, "fixtures/arch")
	text := filepath.Join(t.TempDir(), "text.txt")
	if err := os.WriteFile(text, []byte("the cat is on the mat, and she was at the door with you."), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, fam := range archFamilies {
		for _, c := range []struct{ model, adapter, want string }{
			{fam + "-f32.gguf", "", fam + "-f32__ids1-5.txt"},
			{fam + "-q8_0.gguf", "", fam + "-q8_0__ids1-5.txt"},
			{fam + "-f32.gguf", fam + "-lora-r4.gguf", fam + "-f32+" + fam + "-lora-r4-runtime-s1.0__ids1-5.txt"},
		} {
			t.Run(strings.TrimSuffix(c.want, "__ids1-5.txt"), func(t *testing.T) {
				m := filepath.Join(dir, c.model)
				var extra []string
				if c.adapter != "" {
					extra = []string{"--adapter", filepath.Join(dir, c.adapter)}
				}
				out, code, err := lmCLI(t, append([]string{"logits", m, "--tokens", "1,2,3,4,5", "--json"}, extra...)...)
				if code != 0 {
					t.Fatalf("logits: exit %d: %v", code, err)
				}
				var lr logitsReport
				if err := json.Unmarshal([]byte(out), &lr); err != nil {
					t.Fatal(err)
				}
				want := readLogits(t, filepath.Join(dir, "logits", c.want))
				if len(lr.Logits) != len(want) || slices.ContainsFunc(lr.Logits, func(x float32) bool { return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) }) {
					t.Fatalf("logits: %d values (want %d), all finite required", len(lr.Logits), len(want))
				}
				if g, w := argmax(lr.Logits), argmax(want); g != w {
					t.Errorf("logits argmax %d, llama.cpp's %d", g, w)
				}
				var worst float64
				for i := range want {
					worst = max(worst, math.Abs(float64(lr.Logits[i]-want[i])))
				}
				if worst > tolFamilyLogits {
					t.Errorf("logits differ from llama.cpp's by up to %.3g, want <= %g", worst, tolFamilyLogits)
				}

				rep := generateJSON(t, append([]string{m, "--prompt", "the", "-n", "6"}, extra...)...)
				if len(rep.PromptTokens) == 0 || len(rep.Tokens) == 0 || slices.ContainsFunc(rep.Tokens, func(id int) bool { return id < 0 || id >= len(want) }) {
					t.Errorf("generate = %+v, want new tokens within the vocabulary", rep)
				}

				out, code, err = lmCLI(t, append([]string{"score", m, "--text", text, "--json"}, extra...)...)
				if code != 0 {
					t.Fatalf("score: exit %d: %v", code, err)
				}
				var sr scoreReport
				if err := json.Unmarshal([]byte(out), &sr); err != nil {
					t.Fatal(err)
				}
				if sr.Tokens < 10 || !(sr.MeanNLL > 0) || math.IsInf(sr.MeanNLL, 0) || !(sr.Perplexity > 1) || math.IsInf(sr.Perplexity, 0) {
					t.Errorf("score = %+v, want a finite positive NLL over the text's tokens", sr)
				}
			})
		}
	}
}

// TestTrainCLIFusedQKV: lorakit train on Phi-3 (fused attn_qkv) with
// --targets q,v adapts the q and v row blocks of the fused projection,
// as for GPT-2's c_attn: the written adapter has one attn_qkv module per
// layer whose B is zero on the k rows; the PEFT and GGUF adapters merge,
// and the merged model gives the logits of the adapter at run time. The
// data are E2E lines as text (every token in the loss): the fixture's
// vocabulary is mostly bytes, and a prompt alone fills 64 tokens.
func TestTrainCLIFusedQKV(t *testing.T) {
	base := sharedPath(t, "fixtures/arch/phi3-f32.gguf")
	out := filepath.Join(t.TempDir(), "run")
	stdout, stderr, code := lorakit(t, "train", base, "--data", e2eFile(t, "train", 32), "--eval-data", e2eFile(t, "test", 8), "-o", out, "--json",
		"--format", "text", "--targets", "q,v", "--steps", "20", "--batch", "4", "--lr", "2e-2", "--warmup", "2", "--eval-every", "10", "--seq", "64")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, stderr)
	}
	var sum trainSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("train --json: %v: %q", err, stdout)
	}
	ev := evalLosses(readLog(t, out))
	if len(ev) != 3 || !(ev[2] < ev[0]-0.1) {
		t.Errorf("held-out losses %v: want 3 (steps 0, 10, 20), the last lower by > 0.1", ev)
	}
	t.Logf("held-out losses %v", ev)

	m := loadModel(t, base)
	qd, kvd := m.Config.QDim(), m.Config.KVDim()
	a, err := lora.Open(sum.AdapterGGUF)
	if err != nil {
		t.Fatal(err)
	}
	const rank = 4 // train's default
	if len(a.Modules) != m.Config.Layers {
		t.Fatalf("adapter has %d modules, want one attn_qkv per layer (%d)", len(a.Modules), m.Config.Layers)
	}
	for _, mod := range a.Modules {
		if !strings.HasSuffix(mod.Name, ".attn_qkv") || mod.Rank != 2*rank || mod.Out != qd+2*kvd {
			t.Fatalf("module %s rank %d out %d, want attn_qkv of rank %d and %d rows", mod.Name, mod.Rank, mod.Out, 2*rank, qd+2*kvd)
		}
		rowZero := func(r int) bool {
			return !slices.ContainsFunc(mod.B[r*mod.Rank:(r+1)*mod.Rank], func(x float32) bool { return x != 0 })
		}
		for r := range mod.Out {
			if k := r >= qd && r < qd+kvd; k != rowZero(r) {
				t.Fatalf("%s: B row %d zero %v; want the k rows [%d, %d) zero and only those", mod.Name, r, rowZero(r), qd, qd+kvd)
			}
		}
	}

	applied := logitsJSON(t, "logits", base, "--adapter", sum.AdapterGGUF, "--tokens", "1,260,7,99,12", "--json")
	for _, ad := range []string{sum.Adapter, sum.AdapterGGUF} {
		merged := filepath.Join(t.TempDir(), "merged.gguf")
		if _, stderr, code := lorakit(t, "merge", base, "--adapter", ad, "-o", merged); code != 0 {
			t.Fatalf("merge %s: exit %d: %s", ad, code, stderr)
		}
		got := logitsJSON(t, "logits", merged, "--tokens", "1,260,7,99,12", "--json")
		var worst float64
		for i := range applied {
			worst = max(worst, math.Abs(float64(got[i]-applied[i])))
		}
		// float32 rounding of W + s·B·A against the low-rank path, 2
		// layers: a few times the 4.5e-7 measured.
		const mergeTol = 2e-6
		if worst > mergeTol {
			t.Errorf("merged %s: logits differ from the adapter at run time by %.3g > %g", filepath.Base(ad), worst, mergeTol)
		}
	}
}

// logitsJSON runs lorakit logits with args and returns its logits.
func logitsJSON(t *testing.T, args ...string) []float32 {
	t.Helper()
	out, code, err := lmCLI(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %v", args, code, err)
	}
	var rep logitsReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	return rep.Logits
}
