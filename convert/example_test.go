package convert_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
)

// Cast a small F32 tensor to BF16 and back: BF16 keeps the top 16 bits of
// a float32, rounding to nearest even, so 1.1 comes back as 1.1015625.
func ExampleCast() {
	t := format.TensorInfo{Name: "w", DType: format.F32, Shape: []int64{3}}
	data := make([]byte, 12)
	for i, v := range []float32{1, 1.1, -256.5} {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	bf, err := convert.Cast(data, t, format.BF16)
	if err != nil {
		log.Fatal(err)
	}
	back := make([]float32, 3)
	if err := format.ToFloat32(back, bf, format.BF16); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(bf), "bytes:", back)
	// Output: 6 bytes: [1 1.1015625 -256]
}

// Convert a tiny Hugging Face GPT-2 directory (config.json, a safetensors
// file and the BPE tokenizer files) to GGUF F16: names become llama.cpp's,
// the Conv1D weights are transposed to (out, in), matrices are cast to F16
// while norms stay F32 (as llama.cpp's converter does), and the
// hyperparameters and tokenizer become GGUF metadata.
func ExampleModel() {
	dir, err := os.MkdirTemp("", "convert-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	hf := filepath.Join(dir, "gpt2-tiny")
	writeTinyGPT2(hf)

	out := filepath.Join(dir, "gpt2-tiny.gguf")
	if err := convert.Model(context.Background(), hf, out, convert.ModelOptions{DType: format.F16}); err != nil {
		log.Fatal(err)
	}
	src, err := format.Open(out)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	arch, _ := src.Metadata().String("general.architecture")
	ctx, _ := src.Metadata().Int("gpt2.context_length")
	tokens, _ := src.Metadata().Get("tokenizer.ggml.tokens")
	fmt.Println(src.Format(), arch, "context", ctx, "tokens", tokens)
	for _, name := range []string{"token_embd.weight", "blk.0.attn_norm.weight", "blk.0.attn_qkv.weight"} {
		t, _ := format.TensorIndex(src.Tensors(), name)
		fmt.Println(t)
	}
	// Output:
	// gguf gpt2 context 8 tokens [a b ab]
	// token_embd.weight F16 [3 4]
	// blk.0.attn_norm.weight F32 [4]
	// blk.0.attn_qkv.weight F16 [12 4]
}

// writeTinyGPT2 writes a GPT-2 with 4 dimensions, 2 heads, 1 layer, a
// 3-token vocabulary and 8 positions into dir, every weight 0.25.
func writeTinyGPT2(dir string) {
	const d, vocab, ctx = 4, 3, 8
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	files := map[string]string{
		"config.json": fmt.Sprintf(`{"model_type":"gpt2","n_embd":%d,"n_head":2,"n_layer":1,"n_positions":%d,"vocab_size":%d,"layer_norm_epsilon":1e-5}`, d, ctx, vocab),
		"vocab.json":  `{"a":0,"b":1,"ab":2}`,
		"merges.txt":  "#version: 0.2\na b\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	var infos []format.TensorInfo
	add := func(name string, shape ...int64) {
		infos = append(infos, format.TensorInfo{Name: name, DType: format.F32, Shape: shape})
	}
	add("wte.weight", vocab, d)
	add("wpe.weight", ctx, d)
	add("h.0.ln_1.weight", d)
	add("h.0.ln_1.bias", d)
	add("h.0.attn.c_attn.weight", d, 3*d) // Conv1D: (in, out)
	add("h.0.attn.c_attn.bias", 3*d)
	add("h.0.attn.c_proj.weight", d, d)
	add("h.0.attn.c_proj.bias", d)
	add("h.0.ln_2.weight", d)
	add("h.0.ln_2.bias", d)
	add("h.0.mlp.c_fc.weight", d, 4*d)
	add("h.0.mlp.c_fc.bias", 4*d)
	add("h.0.mlp.c_proj.weight", 4*d, d)
	add("h.0.mlp.c_proj.bias", d)
	add("ln_f.weight", d)
	add("ln_f.bias", d)
	w, err := safetensors.Create(filepath.Join(dir, "model.safetensors"), infos, nil, format.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range infos {
		n, _ := t.NumElements()
		b := make([]byte, 4*n)
		for i := range n {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(0.25))
		}
		if err := w.WriteTensor(t.Name, b); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
}

// Write only the vocabulary of a Hugging Face directory as GGUF, as
// llama.cpp's convert_hf_to_gguf.py --vocab-only does.
func ExampleVocabOnly() {
	dir, err := os.MkdirTemp("", "vocab")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	tok, err := os.ReadFile("../tokenizer/testdata/tiny-llama-tokenizer.json")
	if err != nil {
		log.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), tok, 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"chat_template": "{{ messages[0]['content'] }}"}`), 0o644)
	out := filepath.Join(dir, "vocab.gguf")
	if err := convert.VocabOnly(dir, "", out, false); err != nil {
		log.Fatal(err)
	}
	src, err := format.Open(out)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	for _, kv := range src.Metadata() {
		fmt.Println(kv.Key)
	}
	fmt.Println(len(src.Tensors()), "tensors")
	// Output:
	// general.name
	// tokenizer.ggml.model
	// tokenizer.ggml.pre
	// tokenizer.ggml.tokens
	// tokenizer.ggml.scores
	// tokenizer.ggml.token_type
	// tokenizer.ggml.bos_token_id
	// tokenizer.ggml.eos_token_id
	// tokenizer.ggml.unknown_token_id
	// tokenizer.ggml.add_bos_token
	// tokenizer.ggml.add_eos_token
	// tokenizer.chat_template
	// 0 tensors
}
