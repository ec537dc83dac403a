package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
)

// encoderCLITol: the CLI prints float64 values with %.17g; they differ from
// the numpy float64 reference by the LayerNorm epsilon read as float32
// (see model/encoder's tolRef): measured 1.1e-11.
const encoderCLITol = 1e-10

// TestLogitsEncoder: lorakit logits on the BERT/RoBERTa fixtures prints
// the numpy reference's class logits ({"logits": [...]}) and last hidden
// states ({"hidden": [[...]...]}), from the HF directory and, for RoBERTa,
// llama.cpp's own GGUF, with and without the PEFT adapter.
func TestLogitsEncoder(t *testing.T) {
	root := sharedPath(t, "fixtures/encoder")
	for _, c := range []struct {
		name, model, tokens, adapter, ref string
		hidden                            bool
	}{
		{"bert hf", "hf/bert-seqcls", "2,5,6,7,8,3", "", "bert-seqcls__logits", false},
		{"bert hf adapter", "hf/bert-seqcls", "2,5,6,7,8,3", "adapters/bert-seqcls-lora", "bert-seqcls+lora__logits", false},
		{"bert gguf hidden", "bert-seqcls-f32.gguf", "2,5,6,7,8,3", "", "bert-seqcls__hidden-2", true},
		{"roberta hf hidden", "hf/roberta-seqcls", "0,5,6,7,8,2", "", "roberta-seqcls__hidden-2", true},
		{"roberta gguf", "roberta-seqcls-f32.gguf", "0,5,6,7,8,2", "", "roberta-seqcls__logits", false},
		{"roberta gguf adapter", "roberta-seqcls-f32.gguf", "0,5,6,7,8,2", "adapters/roberta-seqcls-lora", "roberta-seqcls+lora__logits", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"logits", filepath.Join(root, c.model), "--tokens", c.tokens, "--json"}
			if c.adapter != "" {
				args = append(args, "--adapter", filepath.Join(root, c.adapter))
			}
			if c.hidden {
				args = append(args, "--hidden")
			}
			stdout, stderr, code := lorakit(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep struct {
				Logits []float64   `json:"logits"`
				Hidden [][]float64 `json:"hidden"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("%v: %s", err, stdout)
			}
			got := rep.Logits
			if c.hidden {
				got = nil
				for _, row := range rep.Hidden {
					got = append(got, row...)
				}
				if len(rep.Hidden) != len(strings.Split(c.tokens, ",")) {
					t.Errorf("%d hidden rows, want one per token", len(rep.Hidden))
				}
			}
			want := testshared.Numbers(t, filepath.Join(root, "numpy", c.ref+".txt"))
			if len(got) != len(want) {
				t.Fatalf("%d values, reference %d", len(got), len(want))
			}
			for i := range got {
				if math.Abs(got[i]-want[i]) > encoderCLITol {
					t.Fatalf("value %d = %v, reference %v", i, got[i], want[i])
				}
			}
		})
	}
}

// TestEncoderBadInput: an encoder adapter given a decoder, and a saved
// head of another label count, are refused with a clear message.
func TestEncoderBadInput(t *testing.T) {
	root := sharedPath(t, "fixtures/encoder")
	for _, c := range []struct {
		name string
		args []string
		say  string
	}{
		{"encoder adapter on a decoder", []string{"logits", sharedPath(t, "fixtures/arch/qwen2-f32.gguf"), "--tokens", "1,2",
			"--adapter", filepath.Join(root, "adapters/roberta-seqcls-lora")}, "an adapter for an encoder"},
		{"RoBERTa head on a BERT model", []string{"logits", filepath.Join(root, "hf/bert-seqcls"), "--tokens", "2,5,3",
			"--adapter", filepath.Join(root, "adapters/roberta-seqcls-lora")}, "saved tensor"},
		{"llama.cpp's BERT GGUF has no pooler", []string{"logits", filepath.Join(root, "bert-seqcls-f32.gguf"), "--tokens", "2,5,3"}, "no classification head"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := lorakit(t, c.args...)
			if code == 0 || !strings.Contains(stderr, c.say) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q: want a one-line error saying %q", code, stderr, c.say)
			}
		})
	}
}
