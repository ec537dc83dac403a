package sizecalc

import (
	"errors"
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
)

const (
	gpt2Small = `{"model_type":"gpt2","n_embd":768,"n_layer":12,"n_head":12,"n_positions":1024,"vocab_size":50257}`
	gpt2Med   = `{"model_type":"gpt2","n_embd":1024,"n_layer":24,"n_head":16,"n_positions":1024,"vocab_size":50257}`
	llama2_7b = `{"model_type":"llama","hidden_size":4096,"num_hidden_layers":32,"num_attention_heads":32,
		"num_key_value_heads":32,"intermediate_size":11008,"vocab_size":32000,"tie_word_embeddings":false,"torch_dtype":"float16"}`
	llama3_8b = `{"model_type":"llama","hidden_size":4096,"num_hidden_layers":32,"num_attention_heads":32,
		"num_key_value_heads":8,"intermediate_size":14336,"vocab_size":128256,"tie_word_embeddings":false,"torch_dtype":"bfloat16"}`
)

// TestSizeKnownModels checks parameter counts that others have published:
// GPT-2 small's 124,439,808 (Hugging Face's model card count); PEFT's
// print_trainable_parameters for Llama-2-7B with r=8 on q,v ("trainable
// params: 4,194,304 || all params: 6,742,609,920", i.e. 6,738,415,616 base
// parameters) and for Llama-3-8B ("3,407,872 || 8,033,669,120").
// GPT-2 medium's q,v r=4 count is 24·2·4·(1024+1024) = 393,216 (the paper's
// table says 0.35M; see research §4.2).
func TestSizeKnownModels(t *testing.T) {
	tests := []struct {
		name             string
		config           string
		rank             int
		targets          []string
		total, trainable int64
	}{
		{"gpt2 small q,v r4", gpt2Small, 4, []string{"q", "v"}, 124_439_808, 12 * 2 * 4 * 1536},
		{"gpt2 medium q,v r4", gpt2Med, 4, []string{"q", "v"}, 354_823_168, 393_216},
		// PEFT's c_attn target: one (2304, 768) matrix: 8·(768+2304) per layer.
		{"gpt2 small c_attn r8", gpt2Small, 8, []string{"c_attn"}, 124_439_808, 12 * 8 * (768 + 2304)},
		{"llama2 7b q,v r8", llama2_7b, 8, []string{"q", "v"}, 6_738_415_616, 4_194_304},
		{"llama3 8b q,v r8", llama3_8b, 8, []string{"q", "v"}, 8_030_261_248, 3_407_872},
		// All seven: 8·[(4096+4096)·2 + (4096+1024)·2 + (4096+14336)·3] per layer.
		{"llama3 8b all r8", llama3_8b, 8, []string{"q", "k", "v", "o", "gate", "up", "down"}, 8_030_261_248,
			32 * 8 * (2*8192 + 2*5120 + 3*18432)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseShape([]byte(tc.config), "config.json")
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Size(Options{Rank: tc.rank, Targets: tc.targets})
			if err != nil {
				t.Fatal(err)
			}
			if r.TotalParams != tc.total || r.TrainableParams != tc.trainable {
				t.Errorf("Size() params = %d, %d, want %d, %d", r.TotalParams, r.TrainableParams, tc.total, tc.trainable)
			}
		})
	}
}

// TestSizeGPT3 works the paper's GPT-3 175B claims as arithmetic on shapes
// (d = 12288, 96 layers, vocab 50257, context 2048, fp16):
//
//	per layer 12d² + 13d = 1,812,099,072; ×96 = 173,961,510,912
//	+ wte 50257·d = 617,558,016 + wpe 2048·d = 25,165,824 + ln_f 2d
//	= 174,604,259,328 parameters (the paper's Table 4 says 175,255.8M)
//	LoRA r=4 on q,v: 96·2·4·(d+d) = 18,874,368 trainable parameters
//	reduction 174,604,259,328 / 18,874,368 = 9,250.9 (the abstract: 10,000×)
//	checkpoint 2 bytes · total = 349.2 GB (paper: 350 GB);
//	adapter 2 · 18,874,368 = 37,748,736 bytes = 36 MiB (paper: 35 MB)
//	full FT: 2+2+4+4 = 12 bytes per parameter = 2.095 TB; LoRA: 349.2 GB
//	+ 12 · 18.9M = 349.4 GB; ratio 6.0× (the paper: 1.2 TB → 350 GB, 3.4×,
//	which its text does not break down; fp16 Adam moments give 8 bytes per
//	parameter, 1.40 TB and 4.0×)
func TestSizeGPT3(t *testing.T) {
	s, err := ReadShape("testdata/gpt3-175b")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Size(Options{Rank: 4, Targets: []string{"q", "v"}})
	if err != nil {
		t.Fatal(err)
	}
	const total, lora = 174_604_259_328, 18_874_368
	checks := []struct {
		name      string
		got, want int64
	}{
		{"total", r.TotalParams, total},
		{"trainable", r.TrainableParams, lora},
		{"checkpoint", r.CheckpointBytes, 2 * total},
		{"adapter", r.AdapterBytes, 2 * lora},
		{"full FT memory", r.FullFTMemory, 12 * total},
		{"LoRA memory", r.LoRAMemory, 2*total + 12*lora},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	const ratioTol = 0.05 // the figures are quoted to one decimal
	if math.Abs(r.Reduction-9250.9) > ratioTol || math.Abs(r.MemoryRatio-6.0) > ratioTol {
		t.Errorf("reduction, memory ratio = %.1f, %.2f, want 9250.9, 6.0", r.Reduction, r.MemoryRatio)
	}
	r16, _ := s.Size(Options{Rank: 4, Targets: []string{"q", "v"}, StateDType: format.F16})
	if r16.FullFTMemory != 8*total {
		t.Errorf("fp16 moments: full FT memory = %d, want %d", r16.FullFTMemory, 8*total)
	}
}

func TestSizeBad(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		rank    int
		targets []string
		want    error
	}{
		{"bad json", `{"model_type":`, 4, []string{"q"}, format.ErrFormat},
		{"unknown arch", `{"model_type":"mamba","hidden_size":4}`, 4, []string{"q"}, format.ErrUnsupported},
		{"missing layers", `{"model_type":"gpt2","n_embd":8,"n_head":2,"vocab_size":10}`, 1, []string{"q"}, format.ErrFormat},
		{"negative width", `{"model_type":"gpt2","n_embd":-8,"n_layer":1,"n_head":2,"vocab_size":10}`, 1, []string{"q"}, format.ErrFormat},
		{"fractional", `{"model_type":"gpt2","n_embd":8.5,"n_layer":1,"n_head":2,"vocab_size":10}`, 1, []string{"q"}, format.ErrFormat},
		{"wide", `{"model_type":"gpt2","n_embd":1048576,"n_layer":1,"n_head":2,"vocab_size":10}`, 1, []string{"q"}, format.ErrFormat},
		{"huge", `{"model_type":"gpt2","n_embd":1e300,"n_layer":1,"n_head":2,"vocab_size":10}`, 1, []string{"q"}, format.ErrFormat},
		{"gqa mismatch", `{"model_type":"llama","hidden_size":8,"num_hidden_layers":1,"num_attention_heads":3,"num_key_value_heads":2,"intermediate_size":8,"vocab_size":4}`, 1, []string{"q"}, format.ErrFormat},
		{"odd dtype", `{"model_type":"gpt2","n_embd":8,"n_layer":1,"n_head":2,"vocab_size":10,"torch_dtype":"int8"}`, 1, []string{"q"}, format.ErrUnsupported},
		{"rank above layer", gpt2Small, 769, []string{"q"}, format.ErrInvalidOption},
		{"rank 0", gpt2Small, 0, []string{"q"}, format.ErrInvalidOption},
		{"gate on gpt2", gpt2Small, 4, []string{"gate"}, format.ErrUnsupported},
		{"twice", gpt2Small, 4, []string{"q", "q"}, format.ErrInvalidOption},
		{"no targets", gpt2Small, 4, nil, format.ErrInvalidOption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseShape([]byte(tc.config), "config.json")
			if err == nil {
				_, err = s.Size(Options{Rank: tc.rank, Targets: tc.targets})
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Size = %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzParseShape(f *testing.F) {
	for _, s := range []string{gpt2Small, gpt2Med, llama2_7b, llama3_8b, `{}`, `[]`, `{"model_type":"gpt2","n_embd":0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseShape(data, "fuzz")
		if err != nil {
			return
		}
		if n := s.TotalParams(); n <= 0 {
			t.Fatalf("TotalParams() = %d for %+v", n, s)
		}
		s.Size(Options{Rank: 1, Targets: []string{"q", "v"}})
	})
}
