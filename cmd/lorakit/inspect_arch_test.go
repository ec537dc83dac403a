package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestInspectNamesArchitectures: inspect names the architecture of every
// file of ../shared/fixtures/arch (the README there gives each stem's
// general.architecture), of the hf-convert directories (their config.json)
// and of the real adapters (from their base model and module names), with
// no note (BERT/RoBERTa encoders included: the fixtures' GGUF and the real
// RoBERTa adapter are "bert").
func TestInspectNamesArchitectures(t *testing.T) {
	fixtureArch := map[string]string{"qwen2": "qwen2", "qwen3": "qwen3", "gemma2": "gemma2", "gemma3": "gemma3",
		"phi3": "phi3", "llama31": "llama", "mixtral": "llama", "qwen3moe": "qwen3moe"}
	type want struct{ path, arch, note string }
	var cases []want
	files, _ := filepath.Glob(filepath.Join(sharedPath(t, "fixtures/arch"), "*.gguf"))
	if len(files) != 32 {
		t.Fatalf("%d files in fixtures/arch, want 32", len(files))
	}
	for _, f := range files {
		stem, _, _ := strings.Cut(filepath.Base(f), "-")
		cases = append(cases, want{f, fixtureArch[stem], ""})
	}
	for dir, a := range map[string]string{"llama32": "llama", "qwen2": "qwen2", "qwen3": "qwen3", "gemma2": "gemma2",
		"gemma3": "gemma3", "phi3": "phi3", "mistral": "llama"} {
		cases = append(cases, want{sharedPath(t, "fixtures/hf-convert/hf/"+dir), a, ""})
	}
	cases = append(cases,
		want{sharedPath(t, "data/adapters/qwen2.5-0.5b-instruct-lora-r8-qv"), "qwen2", ""},
		want{sharedPath(t, "data/adapters/gemma3-270m-it-lora-r4-qkvo"), "gemma3", ""},
		want{sharedPath(t, "data/adapters/gpt2-tigrinya-peft-lora"), "gpt2", ""},
		want{sharedPath(t, "data/adapters/ollama-discollama-mlx-lora"), "llama", ""},
		want{sharedPath(t, "fixtures/encoder/bert-seqcls-f32.gguf"), "bert", ""},
		want{sharedPath(t, "data/adapters/roberta-seqcls-lora-r8-modules_to_save"), "bert", ""},
	)
	for _, c := range cases {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			out, errs, code := lorakit(t, "inspect", "--json", c.path)
			if code != 0 {
				t.Fatalf("inspect exit %d: %s", code, errs)
			}
			var rep inspectReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Architecture != c.arch {
				t.Errorf("architecture %q, want %q", rep.Architecture, c.arch)
			}
			if (c.note == "") != (rep.ArchNote == "") || !strings.Contains(rep.ArchNote, c.note) {
				t.Errorf("architecture note %q, want one mentioning %q", rep.ArchNote, c.note)
			}
		})
	}
}
