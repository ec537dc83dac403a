package convert

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// ropeFreqsRel is the agreement asked of rope_freqs.weight with llama.cpp's:
// its converter computes them with torch's float32 pow, which is not
// correctly rounded (the fixture README measures 2.1e-7 relative against a
// float64 derivation).
const ropeFreqsRel = 1e-6

// hfConvertCases are the hand-written HF directories of
// ../shared/fixtures/hf-convert and the GGUF llama.cpp's convert_hf_to_gguf.py
// made of each (its README gives the commands): F32 in with --outtype f32,
// BF16 in with the default output type (BF16, 1-D tensors F32).
var hfConvertCases = []struct {
	dir, ref string
	dtype    format.DType // --dtype given to lorakit (Invalid: none)
}{
	{"llama32", "llama32-f32", format.F32},
	{"llama32", "llama32-f32", format.Invalid},
	{"llama32-bf16", "llama32-bf16", format.Invalid},
	{"llama32-bf16", "llama32-bf16", format.BF16},
	{"qwen2", "qwen2-f32", format.F32},
	{"qwen2-bf16", "qwen2-bf16", format.Invalid},
	{"qwen3", "qwen3-f32", format.F32},
	{"gemma2", "gemma2-f32", format.F32},
	{"gemma2-bf16", "gemma2-bf16", format.Invalid},
	{"gemma3", "gemma3-f32", format.F32},
	{"phi3", "phi3-f32", format.F32},
	{"mistral", "mistral-f32", format.Invalid},
	{"mixtral", "mixtral-f32", format.F32},
	{"mixtral", "mixtral-f16", format.F16},
	{"qwen3moe", "qwen3moe-f32", format.Invalid},
}

// TestHFConvertFixtures converts every HF directory of the fixture set and
// compares with llama.cpp's GGUF: tensor names, types, shapes and bytes
// (sha256 listings of llama-gguf-hash), rope_freqs within ropeFreqsRel,
// and the general.architecture, general.file_type and <arch>.* keys with
// their types and values.
func TestHFConvertFixtures(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert")
	for _, c := range hfConvertCases {
		t.Run(c.dir+"/"+c.dtype.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.gguf")
			mustModel(t, filepath.Join(root, "hf", c.dir), out, ModelOptions{DType: c.dtype})
			listing := filepath.Join(root, "tensor-sha256", c.ref+".txt")
			sameAsReference(t, out, filepath.Join(root, c.ref+".gguf"), testshared.TensorHashes(t, listing))
			if !strings.HasPrefix(c.dir, "llama32") { // rope_freqs is only close, so the whole-data hash differs
				if got, want := allDataHash(t, out), wholeFileHash(t, listing); got != want {
					t.Errorf("tensor data in file order: sha256 %.12s, llama.cpp's %.12s (order or bytes differ)", got, want)
				}
			}
		})
	}
}

// sameAsReference compares a GGUF lorakit wrote with llama.cpp's.
func sameAsReference(t *testing.T, got, ref string, refHashes map[string]string) {
	t.Helper()
	gh := hashes(t, got)
	g, err := format.Open(got)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	r, err := format.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(g.Tensors()) != len(r.Tensors()) {
		t.Errorf("%d tensors, llama.cpp wrote %d", len(g.Tensors()), len(r.Tensors()))
	}
	for _, rt := range r.Tensors() {
		gt, ok := format.TensorIndex(g.Tensors(), rt.Name)
		if !ok {
			t.Errorf("tensor %s missing", rt.Name)
			continue
		}
		if gt.DType != rt.DType || !format.SameShape(gt.Shape, rt.Shape) {
			t.Errorf("tensor %s is %v %v, llama.cpp's %v %v", rt.Name, gt.DType, gt.Shape, rt.DType, rt.Shape)
			continue
		}
		if rt.Name == "rope_freqs.weight" {
			closeFloats(t, rt.Name, floats(t, g, rt.Name), floats(t, r, rt.Name), ropeFreqsRel)
			continue
		}
		if gh[rt.Name] != refHashes[rt.Name] {
			t.Errorf("tensor %s: sha256 %.12s, llama.cpp's %.12s", rt.Name, gh[rt.Name], refHashes[rt.Name])
		}
	}
	sameArchKeys(t, g.Metadata(), r.Metadata())
}

// sameArchKeys compares the keys llama.cpp's loader reads for the model:
// general.architecture, general.file_type and every <arch>.* key.
func sameArchKeys(t *testing.T, got, want format.Metadata) {
	t.Helper()
	name, _ := want.String("general.architecture")
	pick := func(md format.Metadata) map[string]any {
		out := map[string]any{}
		for _, kv := range md {
			if kv.Key == "general.architecture" || kv.Key == "general.file_type" || strings.HasPrefix(kv.Key, name+".") {
				out[kv.Key] = kv.Value
			}
		}
		return out
	}
	g, w := pick(got), pick(want)
	for k, v := range w {
		if gv, ok := g[k]; !ok {
			t.Errorf("key %s missing (llama.cpp: %v)", k, v)
		} else if !reflect.DeepEqual(gv, v) {
			t.Errorf("key %s = %v (%T), llama.cpp's %v (%T)", k, gv, gv, v, v)
		}
	}
	for k, v := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("key %s = %v, which llama.cpp does not write", k, v)
		}
	}
}

// floats decodes a tensor to float32.
func floats(t *testing.T, src format.Source, name string) []float32 {
	t.Helper()
	info, _ := format.TensorIndex(src.Tensors(), name)
	v, err := readFloats(src, info)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// closeFloats checks got against want within rel relative error.
func closeFloats(t *testing.T, what string, got, want []float32, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > rel*math.Abs(float64(want[i])) {
			t.Errorf("%s[%d] = %v, want %v (relative %.2g > %g)", what, i, got[i], want[i], d/math.Abs(float64(want[i])), rel)
		}
	}
}

// TestHFConvertRoundTrip converts llama.cpp's GGUFs to Hugging Face
// directories and back: every tensor comes back bit for bit (Gemma's norm
// offset included: GGUF norms in [0.5, 2] survive y-1+1 exactly), except
// rope_freqs, which config.json's rope_scaling regenerates within
// ropeFreqsRel; the <arch>.* keys come back too.
func TestHFConvertRoundTrip(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert")
	for _, ref := range []string{"llama32-f32", "llama32-bf16", "qwen2-f32", "qwen2-bf16", "qwen3-f32", "gemma2-f32",
		"gemma2-bf16", "gemma3-f32", "phi3-f32", "mistral-f32", "mixtral-f32", "mixtral-f16", "qwen3moe-f32"} {
		t.Run(ref, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(root, ref+".gguf")
			hf, back := filepath.Join(dir, "hf"), filepath.Join(dir, "back.gguf")
			mustModel(t, in, hf, ModelOptions{})
			mustModel(t, hf, back, ModelOptions{})
			sameAsReference(t, back, in, hashes(t, in))
		})
	}
}

// TestLlama3OriginalContext: llama32omp's rope_scaling says an original
// context of 2048 where llama.cpp's converter reads only a top-level field
// (default 8192). lorakit computes rope_freqs as transformers does, from
// rope_scaling; the fixture README gives those values
// ([1, 1, 1, 2.101198, 32, 32, 32, 32], six decimals) beside llama.cpp's.
// Every other tensor and key is llama.cpp's.
func TestLlama3OriginalContext(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert")
	out := filepath.Join(t.TempDir(), "omp.gguf")
	mustModel(t, filepath.Join(root, "hf", "llama32omp"), out, ModelOptions{})
	const readmeDecimals = 1e-6 // the README prints the smoothed factor to six decimals
	src, err := format.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := floats(t, src, "rope_freqs.weight")
	want := []float32{1, 1, 1, 2.101198, 32, 32, 32, 32}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > readmeDecimals {
			t.Errorf("rope_freqs[%d] = %v, transformers' %v", i, got[i], want[i])
		}
	}
	refHashes := testshared.TensorHashes(t, filepath.Join(root, "tensor-sha256", "llama32omp-f32.txt"))
	gh := hashes(t, out)
	for name, h := range refHashes {
		if name != "rope_freqs.weight" && gh[name] != h {
			t.Errorf("tensor %s differs from llama.cpp's", name)
		}
	}
	r, err := format.Open(filepath.Join(root, "llama32omp-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sameArchKeys(t, src.Metadata(), r.Metadata())
}

// TestHFConfigContradictsTensors: a config.json whose head counts or sizes
// contradict the tensors is refused with an error naming the tensor, and
// nothing is written.
func TestHFConfigContradictsTensors(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert/hf")
	for _, c := range []struct {
		name, dir string
		edit      map[string]any
		want      error
		say       string
	}{
		{"heads", "qwen2", map[string]any{"num_attention_heads": 8}, format.ErrShape, "heads (8, 2 key/value)"},
		{"kv heads", "llama32", map[string]any{"num_key_value_heads": 1}, format.ErrShape, "self_attn.k_proj"},
		{"kv heads not a divisor", "qwen2", map[string]any{"num_key_value_heads": 3}, format.ErrFormat, "num_key_value_heads 3"},
		{"head_dim", "qwen3", map[string]any{"head_dim": 16}, format.ErrShape, "of size 16"},
		{"hidden size", "gemma2", map[string]any{"hidden_size": 32, "head_dim": 32}, format.ErrShape, "embed_tokens"},
		{"layers", "phi3", map[string]any{"num_hidden_layers": 1}, format.ErrShape, "layer 1"},
		{"unknown family", "qwen2", map[string]any{"model_type": "mamba"}, format.ErrUnsupported, "knows bert, gemma2"},
		{"rope scaling", "llama32", map[string]any{"rope_scaling": map[string]any{"rope_type": "dynamic", "factor": 2.0}}, format.ErrUnsupported, "dynamic"},
		{"fewer experts", "mixtral", map[string]any{"num_local_experts": 3}, format.ErrShape, "3 experts"},
		{"more experts", "qwen3moe", map[string]any{"num_experts": 5}, format.ErrShape, "5 experts"},
		{"absurd expert count", "qwen3moe", map[string]any{"num_experts": 4e9}, format.ErrFormat, "4000000000 experts"},
		{"unnormalised top-k", "qwen3moe", map[string]any{"norm_topk_prob": false}, format.ErrUnsupported, "norm_topk_prob"},
		{"gemma2 softcap", "gemma2", map[string]any{"attn_logit_softcapping": nil}, format.ErrFormat, "attn_logit_softcapping"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyHFDir(t, filepath.Join(root, c.dir), c.edit)
			checkModelFails(t, dir, c.want, c.say)
		})
	}
}

// copyHFDir copies an HF directory, setting config.json fields (nil
// deletes one).
func copyHFDir(t *testing.T, src string, edit map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "config.json" {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for k, v := range edit {
				if v == nil {
					delete(m, k)
				} else {
					m[k] = v
				}
			}
			b, _ = json.Marshal(m)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestHFHalfInput: an HF directory stored in F16 converts as llama.cpp's
// converter converts one (README of the fixtures: the output type follows
// the first tensor of two or more dimensions): 2-D tensors stay F16, 1-D
// ones (norms, biases) become F32, general.file_type is 1 (MOSTLY_F16);
// the values are llama.cpp's F32 reference rounded to F16 (and widened
// back for the 1-D ones).
func TestHFHalfInput(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert")
	dir := t.TempDir()
	hf := filepath.Join(dir, "qwen2-f16")
	os.MkdirAll(hf, 0o755)
	cfg, err := os.ReadFile(filepath.Join(root, "hf", "qwen2", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(hf, "config.json"), cfg, 0o644)
	st, err := format.Open(filepath.Join(root, "hf", "qwen2", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	err = Checkpoint(t.Context(), st, filepath.Join(hf, "model.safetensors"), Options{DType: format.F16})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.gguf")
	mustModel(t, hf, out, ModelOptions{})
	g, err := format.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ref, err := format.Open(filepath.Join(root, "qwen2-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	if ft, _ := g.Metadata().Int("general.file_type"); ft != 1 {
		t.Errorf("general.file_type = %d, want 1 (MOSTLY_F16)", ft)
	}
	for _, rt := range ref.Tensors() {
		gt, ok := format.TensorIndex(g.Tensors(), rt.Name)
		if !ok {
			t.Fatalf("tensor %s missing", rt.Name)
		}
		want := format.F16
		if len(rt.Shape) == 1 {
			want = format.F32
		}
		if gt.DType != want {
			t.Errorf("tensor %s is %v, want %v", rt.Name, gt.DType, want)
		}
		refData, _ := ref.TensorData(rt.Name)
		half, err := Cast(refData, rt, format.F16)
		if err != nil {
			t.Fatal(err)
		}
		if want == format.F32 {
			half, _ = Cast(half, format.TensorInfo{Name: rt.Name, DType: format.F16, Shape: rt.Shape}, format.F32)
		}
		if got, _ := g.TensorData(rt.Name); string(got) != string(half) {
			t.Errorf("tensor %s: values are not llama.cpp's rounded to F16", rt.Name)
		}
	}
}

// TestExpertsBadInput: a missing expert, and a GGUF whose expert count
// disagrees with its stacked tensors, are refused naming the tensor.
func TestExpertsBadInput(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert")
	// An HF Mixtral without expert 2's w3 in layer 1.
	dir := copyHFDir(t, filepath.Join(root, "hf", "mixtral"), nil)
	st, err := format.Open(filepath.Join(root, "hf", "mixtral", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	drop := "model.layers.1.block_sparse_moe.experts.2.w3.weight"
	var keep []format.TensorInfo
	for _, ti := range st.Tensors() {
		if ti.Name != drop {
			keep = append(keep, ti)
		}
	}
	err = Checkpoint(t.Context(), orderedSource{Source: st, infos: keep}, filepath.Join(dir, "model.safetensors"), Options{Force: true})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.gguf")
	if err := Model(t.Context(), dir, out, ModelOptions{}); !errors.Is(err, format.ErrNotFound) || !strings.Contains(err.Error(), "blk.1.ffn_up_exps.weight") {
		t.Errorf("Model(missing expert) = %v, want ErrNotFound naming blk.1.ffn_up_exps.weight", err)
	}
	// A GGUF that says 3 experts over stacks of 4.
	g, err := format.Open(filepath.Join(root, "mixtral-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	md := g.Metadata().Clone()
	md.Set("llama.expert_count", uint32(3))
	bad := filepath.Join(t.TempDir(), "bad.gguf")
	if err := Checkpoint(t.Context(), withMetadata(g, md), bad, Options{}); err != nil {
		t.Fatal(err)
	}
	hf := filepath.Join(t.TempDir(), "hf")
	if err := Model(t.Context(), bad, hf, ModelOptions{}); !errors.Is(err, format.ErrShape) || !strings.Contains(err.Error(), "3 experts") {
		t.Errorf("Model(GGUF with 3 experts of 4) = %v, want ErrShape", err)
	}
	if _, err := os.Stat(hf); err == nil {
		t.Error("failed conversion left an output")
	}
}

// TestMultimodalTextTower: Gemma 3 and Mistral 3 ForConditionalGeneration
// checkpoints (the text model under model.language_model. as transformers
// 4.52+ saves it, or language_model. as older versions did; a vision tower
// beside it; config.json's text_config) convert as their text tower alone,
// to exactly llama.cpp's GGUF of the same text weights.
func TestMultimodalTextTower(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert")
	for _, c := range []struct {
		stem, ref, class, modelType string
		rename                      func(string) string
	}{
		{"gemma3", "gemma3-f32", "Gemma3ForConditionalGeneration", "gemma3",
			func(n string) string { return "model.language_model." + strings.TrimPrefix(n, "model.") }},
		{"mistral", "mistral-f32", "Mistral3ForConditionalGeneration", "mistral3",
			func(n string) string { return "language_model." + n }},
	} {
		t.Run(c.stem, func(t *testing.T) {
			src := filepath.Join(root, "hf", c.stem)
			dir := t.TempDir()
			raw, err := os.ReadFile(filepath.Join(src, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var text map[string]any
			json.Unmarshal(raw, &text)
			cfg, _ := json.Marshal(map[string]any{"architectures": []string{c.class}, "model_type": c.modelType,
				"text_config": text, "vision_config": map[string]any{"model_type": "siglip_vision_model"}})
			os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
			if tok, err := os.ReadFile(filepath.Join(src, "tokenizer.json")); err == nil {
				os.WriteFile(filepath.Join(dir, "tokenizer.json"), tok, 0o644)
			}
			st, err := format.Open(filepath.Join(src, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			renamed := &view{base: st, entries: map[string]viewEntry{}, md: st.Metadata()}
			for _, ti := range st.Tensors() {
				renamed.add(c.rename(ti.Name), newEntry(ti, arch.None, false, 0))
			}
			vision := []byte{0, 0, 128, 63, 0, 0, 0, 64} // two float32: a stand-in vision tower weight
			renamed.add("vision_tower.vision_model.post_layernorm.weight", viewEntry{data: vision, dtype: format.F32})
			renamed.add("multi_modal_projector.mm_input_projection_weight", viewEntry{data: vision, dtype: format.F32})
			if err := Checkpoint(t.Context(), renamed, filepath.Join(dir, "model.safetensors"), Options{}); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out.gguf")
			mustModel(t, dir, out, ModelOptions{})
			sameAsReference(t, out, filepath.Join(root, c.ref+".gguf"), testshared.TensorHashes(t, filepath.Join(root, "tensor-sha256", c.ref+".txt")))
		})
	}
}

// TestRopeScalingKeys: rope_scaling types other than llama3 become the
// keys and tensors llama.cpp's converter writes (its TextModel and
// Phi3MiniModel code): YaRN's type, factor and original context; Phi-3
// LongRoPE's long/short factor tensors and attention factor
// sqrt(1 + ln(scale)/ln(original)); and come back through config.json.
func TestRopeScalingKeys(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert/hf")
	long := []any{1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5}
	short := []any{1.0, 1.0, 1.25, 1.25, 1.5, 1.5, 1.75, 1.75}
	for _, c := range []struct {
		name, dir string
		edit      map[string]any
		keys      map[string]any
		tensors   map[string][]any
	}{
		{"yarn", "qwen2", map[string]any{"rope_scaling": map[string]any{"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768.0}},
			map[string]any{"qwen2.rope.scaling.type": "yarn", "qwen2.rope.scaling.factor": float32(4), "qwen2.rope.scaling.original_context_length": uint32(32768)}, nil},
		{"linear", "gemma3", map[string]any{"rope_scaling": map[string]any{"rope_type": "linear", "factor": 8.0}},
			map[string]any{"gemma3.rope.scaling.type": "linear", "gemma3.rope.scaling.factor": float32(8)}, nil},
		{"longrope", "phi3", map[string]any{"max_position_embeddings": 131072.0,
			"rope_scaling": map[string]any{"type": "longrope", "long_factor": long, "short_factor": short}},
			map[string]any{"phi3.rope.scaling.type": "longrope", "phi3.context_length": uint32(131072),
				"phi3.rope.scaling.attn_factor": float32(math.Sqrt(1 + math.Log(131072.0/4096)/math.Log(4096)))},
			map[string][]any{"rope_factors_long.weight": long, "rope_factors_short.weight": short}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyHFDir(t, filepath.Join(root, c.dir), c.edit)
			g1, hf, g2 := filepath.Join(t.TempDir(), "a.gguf"), filepath.Join(t.TempDir(), "hf"), filepath.Join(t.TempDir(), "b.gguf")
			mustModel(t, dir, g1, ModelOptions{})
			mustModel(t, g1, hf, ModelOptions{})
			mustModel(t, hf, g2, ModelOptions{})
			for _, path := range []string{g1, g2} {
				src, err := format.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				for k, want := range c.keys {
					if got, _ := src.Metadata().Get(k); !reflect.DeepEqual(got, want) {
						t.Errorf("%s: %s = %v (%T), want %v (%T)", filepath.Base(path), k, got, got, want, want)
					}
				}
				for name, vals := range c.tensors {
					got := floats(t, src, name)
					for i, v := range vals {
						if got[i] != float32(v.(float64)) {
							t.Errorf("%s: %s[%d] = %v, want %v", filepath.Base(path), name, i, got[i], v)
						}
					}
				}
				src.Close()
			}
			sameHashes(t, "GGUF -> HF -> GGUF", hashes(t, g2), hashes(t, g1))
		})
	}
}

// gemmaNormBackTol is how far an HF Gemma norm can come back from GGUF:
// x+1 rounds to a multiple of 2^-23 (for |x| < 1), so x+1-1 is x within
// half of that, 2^-24.
const gemmaNormBackTol = 1.0 / (1 << 24)

// TestGemmaNormHFRoundTrip: HF -> GGUF -> HF returns Gemma's norm offsets
// within gemmaNormBackTol (every other tensor bit for bit).
func TestGemmaNormHFRoundTrip(t *testing.T) {
	root := testshared.Path(t, "fixtures/hf-convert/hf")
	for _, dir := range []string{"gemma2", "gemma3"} {
		t.Run(dir, func(t *testing.T) {
			in := filepath.Join(root, dir)
			g, hf := filepath.Join(t.TempDir(), "a.gguf"), filepath.Join(t.TempDir(), "hf")
			mustModel(t, in, g, ModelOptions{})
			mustModel(t, g, hf, ModelOptions{})
			a, err := format.Open(filepath.Join(in, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := format.Open(filepath.Join(hf, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			worst := 0.0
			for _, ti := range a.Tensors() {
				if _, ok := format.TensorIndex(b.Tensors(), ti.Name); !ok {
					t.Fatalf("tensor %s lost", ti.Name)
				}
				x, y := floats(t, a, ti.Name), floats(t, b, ti.Name)
				if len(y) < len(x) {
					x = x[:len(y)] // gemma3's embedding, cut to the tokenizer's rows
				}
				for i := range y {
					d := math.Abs(float64(x[i] - y[i]))
					if !strings.HasSuffix(ti.Name, "norm.weight") && d != 0 {
						t.Fatalf("%s[%d] changed: %v -> %v", ti.Name, i, x[i], y[i])
					}
					worst = math.Max(worst, d)
				}
			}
			if worst > gemmaNormBackTol {
				t.Errorf("norms came back %g off, want <= %g", worst, gemmaNormBackTol)
			}
			t.Logf("norms: max |x - (x+1-1)| = %g", worst)
		})
	}
}

// wholeFileHash reads the last line of a llama-gguf-hash listing: the
// sha256 of all tensor data concatenated in file order.
func wholeFileHash(t *testing.T, listing string) string {
	t.Helper()
	data, err := os.ReadFile(listing)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "sha256" && !strings.Contains(f[2], ":") {
			return f[1]
		}
	}
	t.Fatalf("%s: no whole-file line", listing)
	return ""
}

// allDataHash is the sha256 of a GGUF's tensor data concatenated in file
// order, without padding (as llama-gguf-hash computes its last line).
func allDataHash(t *testing.T, path string) string {
	t.Helper()
	src, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	h := sha256.New()
	for _, ti := range src.Tensors() {
		data, err := src.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}
