package convert

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// deltaTol: dW = s·B·A compared in float64 after a float32 round trip of B
// through the scale folding; 1e-6 relative is the acceptance bound.
const deltaTol = 1e-6

func TestPEFTGPT2ThroughGGUF(t *testing.T) {
	in := sharedPath(t, "data/adapters/gpt2-tigrinya-peft-lora")
	dir := t.TempDir()
	g, back := filepath.Join(dir, "a.gguf"), filepath.Join(dir, "peft")
	if err := Adapter(in, g, AdapterOptions{}); err != nil {
		t.Fatal(err)
	}
	// Shapes llama.cpp expects for a gpt2 base with n_embd 768 (row-major,
	// i.e. ggml ne reversed): lora_a [r, in], lora_b [out, r].
	src, err := format.Open(g)
	if err != nil {
		t.Fatal(err)
	}
	wantShapes := map[string][]int64{
		"blk.0.attn_qkv.weight.lora_a": {8, 768}, "blk.0.attn_qkv.weight.lora_b": {2304, 8},
		"blk.0.attn_output.weight.lora_a": {8, 768}, "blk.0.attn_output.weight.lora_b": {768, 8},
		"blk.11.ffn_down.weight.lora_a": {8, 3072}, "blk.11.ffn_down.weight.lora_b": {768, 8},
	}
	for name, shape := range wantShapes {
		ti, ok := format.TensorIndex(src.Tensors(), name)
		if !ok || !format.SameShape(ti.Shape, shape) {
			t.Errorf("GGUF tensor %s = %v (present %v), want %v", name, ti.Shape, ok, shape)
		}
	}
	if typ, _ := src.Metadata().String("general.type"); typ != "adapter" {
		t.Errorf("general.type = %q", typ)
	}
	src.Close()

	if err := Adapter(g, back, AdapterOptions{}); err != nil {
		t.Fatal(err)
	}
	orig, err := lora.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := lora.Open(back)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Modules) != len(orig.Modules) {
		t.Fatalf("%d modules after the round trip, want %d", len(got.Modules), len(orig.Modules))
	}
	for _, m := range orig.Modules {
		gm := got.Module("transformer." + strings.TrimPrefix(m.Name, "transformer."))
		if gm == nil {
			t.Fatalf("module %s lost", m.Name)
		}
		if !gm.FanInFanOut {
			t.Errorf("module %s: fan_in_fan_out lost", m.Name)
		}
		if rel := relDiff(gm.Delta(), m.Delta()); rel > deltaTol {
			t.Errorf("module %s: dW differs by %g relative", m.Name, rel)
		}
	}
}

// relDiff is max|a-b| / max|b|.
func relDiff(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / m
}

// llama3Config is Meta-Llama-3-8B's config.json, enough to convert the
// discollama adapter (it needs the head counts).
const llama3Config = `{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":4096,
"intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,
"max_position_embeddings":8192,"rms_norm_eps":1e-05,"rope_theta":500000.0,"vocab_size":128256}`

// TestMLXToGGUF compares with ollama's expected conversion of the same
// adapter. Metadata and the v tensors agree exactly. For q, ollama permutes
// the input dimension of lora_a (it applies the RoPE reordering to a
// tensor's first stored dimension, which for mlx's [in, r] lora_a is the
// input), so its update is dW·P where llama.cpp's permuted base needs P·dW:
// we permute B's rows instead, and the test proves ours equals P·dW.
func TestMLXToGGUF(t *testing.T) {
	in := sharedPath(t, "data/adapters/ollama-discollama-mlx-lora")
	var expected map[string]string
	raw, _ := os.ReadFile(filepath.Join(in, "discollama.expected-gguf-kv.json"))
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "base"), 0o755)
	os.WriteFile(filepath.Join(dir, "base", "config.json"), []byte(llama3Config), 0o644)
	out := filepath.Join(dir, "disco.gguf")
	if err := Adapter(in, out, AdapterOptions{Base: filepath.Join(dir, "base"), DType: format.F16}); err != nil {
		t.Fatal(err)
	}
	src, err := format.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	md := src.Metadata()
	for _, key := range []string{"general.architecture", "general.type", "adapter.type", "adapter.lora.alpha",
		"general.file_type", "llama.attention.head_count", "llama.attention.head_count_kv"} {
		v, ok := md.Get(key)
		if !ok || strings.Trim(jsonString(v), `"`) != expected[key] {
			t.Errorf("%s = %v, ollama %s", key, v, expected[key])
		}
	}
	got := hashes(t, out)
	for _, name := range []string{"blk.30.attn_v.weight.lora_a", "blk.30.attn_v.weight.lora_b", "blk.31.attn_v.weight.lora_a", "blk.31.attn_v.weight.lora_b"} {
		if got[name] != expected[name] {
			t.Errorf("%s sha256 %s, ollama %s", name, got[name], expected[name])
		}
	}

	// q: ours is P·(B·A) exactly, with P llama.cpp's row permutation.
	orig, err := lora.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	conv, err := lora.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	mq := orig.Module("model.layers.30.self_attn.q_proj")
	cq := conv.Module("blk.30.attn_q")
	d := mq.Delta()
	raw32 := make([]byte, 4*len(d))
	for i, v := range d {
		putF32(raw32[4*i:], v)
	}
	perm, _ := ropeRows(raw32, mq.Out, 4*mq.In, 32, true)
	want := make([]float32, len(d))
	for i := range want {
		want[i] = getF32(perm[4*i:])
	}
	// F16 storage of A and B bounds the difference.
	if rel := relDiff(cq.Delta(), want); rel > 2e-3 {
		t.Errorf("q update differs from P·dW by %g relative", rel)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAdapterBadInput(t *testing.T) {
	peft := sharedPath(t, "data/adapters/gpt2-tigrinya-peft-lora")
	mlx := sharedPath(t, "data/adapters/ollama-discollama-mlx-lora")
	small := sharedPath(t, "fixtures/gpt2-f32.gguf")
	llamaBase := sharedPath(t, "fixtures/llama-f32.gguf")
	for _, c := range []struct {
		name, in, base string
		want           error
		say            string
	}{
		{"shape mismatch", peft, small, format.ErrShape, "[2304 768]"},
		{"other architecture", peft, llamaBase, format.ErrUnsupported, "c_attn"},
		{"no heads for q", mlx, "", format.ErrUnsupported, "--base"},
		{"targets absent", mlx, llamaBase, format.ErrNotFound, "the base has no tensor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "a.gguf")
			err := Adapter(c.in, out, AdapterOptions{Base: c.base})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.say) {
				t.Errorf("Adapter = %v, want %v mentioning %q", err, c.want, c.say)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Error("failed conversion left an output")
			}
		})
	}
}

// TestPermuteFollowsRows checks that B's rows, the DoRA magnitude and the
// lora_B bias move together: entry i of each still describes output row i.
func TestPermuteFollowsRows(t *testing.T) {
	const out, rank, heads = 8, 2, 2
	m := &lora.Module{Name: "q", Rank: rank, Out: out, In: 3, B: make([]float32, out*rank),
		Magnitude: make([]float32, out), Bias: make([]float32, out)}
	for r := range out {
		m.B[r*rank], m.B[r*rank+1] = float32(r), float32(r)
		m.Magnitude[r], m.Bias[r] = float32(r), float32(-r)
	}
	if err := permuteB(m, heads, true); err != nil {
		t.Fatal(err)
	}
	moved := false
	for r := range out {
		if m.Magnitude[r] != m.B[r*rank] || m.Bias[r] != -m.B[r*rank] {
			t.Errorf("row %d: B tag %v, magnitude %v, bias %v", r, m.B[r*rank], m.Magnitude[r], m.Bias[r])
		}
		moved = moved || m.Magnitude[r] != float32(r)
	}
	if !moved {
		t.Error("permutation left every row in place")
	}
}

// TestAdapterBadHFBase: a Hugging Face base whose weights are present but
// malformed is an error (only absent weights are optional).
func TestAdapterBadHFBase(t *testing.T) {
	in := sharedPath(t, "data/adapters/ollama-discollama-mlx-lora")
	base := filepath.Join(t.TempDir(), "base")
	os.MkdirAll(base, 0o755)
	os.WriteFile(filepath.Join(base, "config.json"), []byte(llama3Config), 0o644)
	os.WriteFile(filepath.Join(base, "model.safetensors"), []byte("not a safetensors file"), 0o644)
	out := filepath.Join(t.TempDir(), "a.gguf")
	if err := Adapter(in, out, AdapterOptions{Base: base}); !errors.Is(err, format.ErrFormat) {
		t.Errorf("Adapter(base with a malformed model.safetensors) = %v, want %v", err, format.ErrFormat)
	}
}
