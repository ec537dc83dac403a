package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyCheckReleaseCommands runs the three commands end to end and
// checks their exit statuses and what they name.
func TestVerifyCheckReleaseCommands(t *testing.T) {
	fx := sharedPath(t, "fixtures")
	adapters := sharedPath(t, "data/adapters")
	g := func(s string) string { return filepath.Join(fx, s+".gguf") }
	dir := filepath.Join(t.TempDir(), "rel")
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  string // must appear in stdout
		mention string // must appear in stderr
	}{
		{"verify llama merge", []string{"verify", g("llama-merged-f32"), "--base", g("llama-f32"), "--adapter", g("llama-lora-r8")}, exitOK, "bit-exact", ""},
		{"verify wrong scale", []string{"verify", g("llama-merged-f32"), "--base", g("llama-f32"), "--adapter", g("llama-lora-r8") + ":0.5"}, exitFail, "DIFFERENT", "blk.0.attn_q.weight"},
		{"verify without base", []string{"verify", g("llama-merged-f32")}, exitUsage, "", "--base"},
		{"check", []string{"check", g("llama-q8_0"), "--adapter", g("llama-lora-r8"), "--quant", "Q8_0,Q2_K"}, exitOK, "survival", ""},
		{"check malformed", []string{"check", g("llama-f32"), "--adapter", filepath.Join(adapters, "deepseek-coder-lora-MALFORMED-empty-tensors")}, exitFail, "", "shape [0]"},
		{"check other architecture", []string{"check", g("llama-f32"), "--adapter", g("gpt2-lora-r4")}, exitFail, "BLOCKER", "blockers"},
		{"release", []string{"release", g("llama-f32"), "--adapter", g("llama-lora-r8"), "-o", dir, "--quant", "q8_0", "--name", "t"}, exitOK, "t-Q8_0.gguf", ""},
		{"verify release dir", []string{"verify", dir}, exitOK, "bit-exact", ""},
		{"release onto an existing directory", []string{"release", g("llama-f32"), "--adapter", g("llama-lora-r8"), "-o", dir}, exitFail, "", "already exists"},
		{"verify missing release", []string{"verify", filepath.Join(dir, "nope.gguf"), "--base", g("llama-f32")}, exitFail, "", "nope.gguf"},
		{"verify second shard", []string{"verify", filepath.Join(fx, "split", "llama-f32-00002-of-00004.gguf"), "--base", g("llama-f32")}, exitFail, "", "llama-f32-00001-of-00004.gguf"},
		{"quantize second shard", []string{"quantize", filepath.Join(fx, "split", "llama-f32-00002-of-00004.gguf"), filepath.Join(dir, "..", "x.gguf"), "Q8_0"}, exitFail, "", "first shard"},
		{"release bad quant", []string{"release", g("llama-f32"), "--adapter", g("llama-lora-r8"), "-o", dir + "2", "--quant", "Q9"}, exitUsage, "", "--quant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := lorakit(t, tc.args...)
			if code != tc.code {
				t.Fatalf("lorakit %v = exit %d, want %d (stderr %q)", tc.args, code, tc.code, errs)
			}
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, out)
			}
			if !strings.Contains(errs, tc.mention) {
				t.Errorf("stderr lacks %q: %s", tc.mention, errs)
			}
		})
	}
}
