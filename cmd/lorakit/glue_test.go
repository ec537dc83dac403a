package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainEvalGLUE: train --task glue/sst2 on the RoBERTa fixture (a new
// two-label head, a word vocabulary) writes a PEFT adapter whose
// evaluation by eval --task equals the dev score train reported after
// training (the adapter round trip loses nothing), and a head of the
// wrong label count is refused without --new-head.
func TestTrainEvalGLUE(t *testing.T) {
	base := filepath.Join(sharedPath(t, "fixtures/encoder"), "hf", "roberta-seqcls")
	data := sharedPath(t, "data/glue")
	out := t.TempDir()
	stdout, stderr, code := lorakit(t, "train", base, "--task", "glue/sst2", "--data", data, "--tokenizer", "words",
		"--limit", "200", "--epochs", "1", "--new-head", "-o", out, "--json")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	var tr struct {
		Steps int `json:"steps"`
		After struct {
			Loss    float64            `json:"loss"`
			Metrics map[string]float64 `json:"metrics"`
		} `json:"dev_after"`
		Adapter string `json:"adapter"`
	}
	if err := json.Unmarshal([]byte(stdout), &tr); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if tr.Steps != 13 { // ⌈200/16⌉
		t.Errorf("%d steps, want 13", tr.Steps)
	}
	stdout, stderr, code = lorakit(t, "eval", base, "--task", "glue/sst2", "--data", data, "--tokenizer", "words",
		"--adapter", tr.Adapter, "--new-head", "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var ev struct {
		Loss    float64            `json:"loss"`
		Metrics map[string]float64 `json:"metrics"`
		N       int                `json:"examples"`
	}
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if ev.N != 872 || ev.Loss != tr.After.Loss || ev.Metrics["accuracy"] != tr.After.Metrics["accuracy"] {
		t.Errorf("eval of the saved adapter: %d examples, loss %v, accuracy %v; train reported loss %v, accuracy %v",
			ev.N, ev.Loss, ev.Metrics["accuracy"], tr.After.Loss, tr.After.Metrics["accuracy"])
	}
	_, stderr, code = lorakit(t, "train", base, "--task", "glue/sst2", "--data", data, "--tokenizer", "words", "-o", t.TempDir())
	if code == 0 || !strings.Contains(stderr, "give --new-head") {
		t.Errorf("3-label head on SST-2: exit %d, %q; want a refusal asking for --new-head", code, stderr)
	}
}
