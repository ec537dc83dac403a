package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainChat trains a few steps on chat data (the embedded model with
// TinyLlama's template) and refuses chat data without a template.
func TestTrainChat(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for _, q := range []string{"Tell me a story.", "Who is Lily?", "What did Tom find?", "Say hi."} {
		lines = append(lines, `{"messages": [{"role": "system", "content": "You tell short stories."}, {"role": "user", "content": "`+q+`"}, {"role": "assistant", "content": "Once upon a time, there was a little girl named Lily."}]}`)
	}
	file := filepath.Join(dir, "chat.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl := sharedPath(t, "data/tokenizers/tinyllama-1.1b-chat-v1.0")
	out := filepath.Join(dir, "run")
	stdout, stderr, code := lorakit(t, "train", "--data", file, "--chat-template", tmpl, "-o", out, "--json", "--steps", "2", "--batch", "2", "--seq", "128")
	if code != exitOK {
		t.Fatalf("train on chat data: exit %d: %s", code, stderr)
	}
	var sum trainSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.Steps != 2 || sum.Tokens == 0 || sum.Loss <= 0 {
		t.Errorf("train summary %+v (%v), want 2 steps with a loss", sum, err)
	}

	out2 := filepath.Join(dir, "run2")
	_, stderr, code = lorakit(t, "train", "--data", file, "-o", out2, "--steps", "1")
	if code != exitFail || !strings.Contains(stderr, "chat template") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("chat data without a template: exit %d, stderr %q; want one line naming the chat template", code, stderr)
	}
	if _, err := os.Stat(out2); err == nil {
		t.Errorf("output directory created on bad input")
	}
}
