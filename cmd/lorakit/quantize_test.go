package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// quantizeCLI runs the quantize command on its own (whether or not the
// root command lists it) and returns stdout, stderr and the error.
func quantizeCLI(args ...string) (string, string, error) {
	cmd := newQuantizeCmd()
	var out, errb bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestQuantizeCmd(t *testing.T) {
	dir := sharedPath(t, "fixtures")
	in := filepath.Join(dir, "llama-f32.gguf")
	out := filepath.Join(t.TempDir(), "q.gguf")

	if _, errs, err := quantizeCLI(in, out, "q4_k_m"); err != nil {
		t.Fatalf("quantize = %v (%s)", err, errs)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile(filepath.Join(dir, "llama-q4_k_m.gguf"))
	if !bytes.Equal(got, want) {
		t.Errorf("lorakit quantize llama-f32 q4_k_m differs from llama-quantize's llama-q4_k_m.gguf")
	}
	if _, _, err := quantizeCLI(in, out, "Q4_K_M"); !errors.Is(err, format.ErrExists) {
		t.Errorf("quantize onto an existing output = %v, want ErrExists", err)
	}
	if _, _, err := quantizeCLI(in, out, "Q8_0", "--force"); err != nil {
		t.Errorf("quantize --force = %v", err)
	}
}

func TestQuantizeCmdDryRun(t *testing.T) {
	dir := sharedPath(t, "fixtures")
	stdout, _, err := quantizeCLI("--dry-run", filepath.Join(dir, "gpt2-f32.gguf"), "Q4_0")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(stdout, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "token_embd.weight" {
			// Quirk 4 of fixtures/README.md: tied embedding, Q6_K falls back to Q8_0.
			if !strings.Contains(line, "F32 -> Q8_0") || !strings.Contains(line, "100224 -> 26622") {
				t.Errorf("dry-run line %q, want F32 -> Q8_0, 100224 -> 26622 bytes", line)
			}
			return
		}
	}
	t.Errorf("dry-run output lists no token_embd.weight:\n%s", stdout)
}

func TestQuantizeCmdUsage(t *testing.T) {
	for _, args := range [][]string{
		{"in.gguf", "out.gguf", "Q9_9"},
		{"in.gguf", "Q8_0"},
		{"in.gguf", "out.gguf", "Q8_0", "--keep", "("},
	} {
		_, _, err := quantizeCLI(args...)
		var ue usageError
		var ae argsError
		if !errors.As(err, &ue) && !errors.As(err, &ae) {
			t.Errorf("quantize %v = %v, want a usage error", args, err)
		}
	}
}
