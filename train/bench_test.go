package train

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf" // block codecs (Q8_0, ...)
	"github.com/lorakit/lorakit/internal/peakrss"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/train/data"
)

// memSource is an in-memory checkpoint with llama.cpp's GPT-2 names.
type memSource struct {
	infos []format.TensorInfo
	data  map[string][]byte
	md    format.Metadata
}

func (s *memSource) Format() string                         { return "mem" }
func (s *memSource) Tensors() []format.TensorInfo           { return s.infos }
func (s *memSource) Metadata() format.Metadata              { return s.md }
func (s *memSource) Close() error                           { return nil }
func (s *memSource) TensorData(name string) ([]byte, error) { return s.data[name], nil }

// gpt2Source builds a random GPT-2-shaped checkpoint (weights N(0, 0.02),
// norms 1) whose 2-D matrices (position embeddings excepted) are stored as
// dt, the others as F32.
func gpt2Source(tb testing.TB, layers, embd, heads, vocab, ctx int, dt format.DType) format.Source {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	s := &memSource{data: map[string][]byte{}, md: format.Metadata{
		{Key: "general.architecture", Value: "gpt2"},
		{Key: "gpt2.context_length", Value: uint32(ctx)},
		{Key: "gpt2.embedding_length", Value: uint32(embd)},
		{Key: "gpt2.block_count", Value: uint32(layers)},
		{Key: "gpt2.attention.head_count", Value: uint32(heads)},
		{Key: "gpt2.feed_forward_length", Value: uint32(4 * embd)},
		{Key: "gpt2.attention.layer_norm_epsilon", Value: float32(1e-5)},
	}}
	add := func(name string, fill float32, shape ...int64) {
		n := shape[0]
		if len(shape) == 2 {
			n *= shape[1]
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = fill
			if fill == 0 {
				x[i] = float32(rng.NormFloat64() * 0.02)
			}
		}
		t := dt
		if len(shape) == 1 || name == "position_embd.weight" {
			t = format.F32
		}
		rb, err := t.RowBytes(shape[len(shape)-1])
		if err != nil {
			tb.Fatal(err)
		}
		buf := make([]byte, rb*(n/shape[len(shape)-1]))
		if err := format.FromFloat32(buf, x, t); err != nil {
			tb.Fatal(err)
		}
		s.infos = append(s.infos, format.TensorInfo{Name: name, DType: t, Shape: shape})
		s.data[name] = buf
	}
	C, F := int64(embd), int64(4*embd)
	add("token_embd.weight", 0, int64(vocab), C)
	add("position_embd.weight", 0, int64(ctx), C)
	for l := range layers {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", 1, C)
		add(p+"attn_norm.bias", 1e-3, C)
		add(p+"attn_qkv.weight", 0, 3*C, C)
		add(p+"attn_qkv.bias", 1e-3, 3*C)
		add(p+"attn_output.weight", 0, C, C)
		add(p+"attn_output.bias", 1e-3, C)
		add(p+"ffn_norm.weight", 1, C)
		add(p+"ffn_norm.bias", 1e-3, C)
		add(p+"ffn_up.weight", 0, F, C)
		add(p+"ffn_up.bias", 1e-3, F)
		add(p+"ffn_down.weight", 0, C, F)
		add(p+"ffn_down.bias", 1e-3, C)
	}
	add("output_norm.weight", 1, C)
	add("output_norm.bias", 1e-3, C)
	return s
}

// randomExamples returns n examples of seq+1 random tokens, the loss on
// the second half (a completion).
func randomExamples(n, seq, vocab int) []data.Example {
	rng := rand.New(rand.NewPCG(3, 4))
	ex := make([]data.Example, n)
	for i := range ex {
		toks := make([]int, seq+1)
		for j := range toks {
			toks[j] = rng.IntN(vocab)
		}
		ex[i] = data.Example{Tokens: toks, Prompt: 1, Line: i + 1}
	}
	return ex
}

// benchSteps times optimizer steps of t and reports tokens/s and the
// process's peak RSS during them.
func benchSteps(b *testing.B, t *Trainer) {
	if _, err := t.Step(); err != nil { // allocate activations
		b.Fatal(err)
	}
	peakrss.Reset()
	b.ReportAllocs()
	b.ResetTimer()
	tokens := t.State().Tokens
	for b.Loop() {
		if _, err := t.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(t.State().Tokens-tokens)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(peakrss.Read())/(1<<20), "peak-RSS-MiB")
}

// BenchmarkTrainStepGPT2Small: a full training step (forward, backward,
// AdamW) of LoRA rank 4 on q,v, batch 8 x seq 128, on a random GPT-2-small
// shaped model (12 layers, d 768, vocab 50257) with the base in F32 and in
// Q8_0 (QLoRA-style: dequantized inside each product). PyTorch 1.13 on the
// same kind of machine: about 119 tokens/s (compute-baselines.md).
func BenchmarkTrainStepGPT2Small(b *testing.B) {
	for _, dt := range []format.DType{format.F32, format.Q8_0} {
		b.Run(dt.String(), func(b *testing.B) {
			m, err := model.Load(gpt2Source(b, 12, 768, 12, 50257, 1024, dt), model.Options{KeepQuantized: true})
			if err != nil {
				b.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.Batch, cfg.Seq, cfg.Steps, cfg.Warmup, cfg.Dropout = 8, 128, 1<<20, 10, 0.1
			t, err := New(m, cfg, randomExamples(64, 128, 50257), nil)
			if err != nil {
				b.Fatal(err)
			}
			benchSteps(b, t)
		})
	}
}

// BenchmarkTrainStepStories: the demo's training step on stories260K (LoRA
// rank 4 on q,v, batch 8, E2E examples).
func BenchmarkTrainStepStories(b *testing.B) {
	m, tok := loadStories(b, model.Options{})
	tr, _ := e2eExamples(b, tok, 256, 584, 1)
	cfg := DemoConfig(4)
	cfg.Steps = 1 << 20
	t, err := New(m, cfg, tr, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchSteps(b, t)
}
