package convert

import (
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
			sameAsReference(t, out, filepath.Join(root, c.ref+".gguf"), testshared.TensorHashes(t, filepath.Join(root, "tensor-sha256", c.ref+".txt")))
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
		"gemma2-bf16", "gemma3-f32", "phi3-f32", "mistral-f32"} {
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
