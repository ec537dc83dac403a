package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/format"
)

// execCmd runs one subcommand directly (independent of the root's list).
func execCmd(t *testing.T, cmd *cobra.Command, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestMergeCmd(t *testing.T) {
	dir := sharedPath(t, "fixtures")
	tmp := t.TempDir()
	out := filepath.Join(tmp, "m.gguf")
	stdout, err := execCmd(t, newMergeCmd(), filepath.Join(dir, "gpt2-q8_0.gguf"), "--adapter", filepath.Join(dir, "gpt2-lora-r4.gguf")+":0.5", "-o", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "6 merged") {
		t.Errorf("merge output = %q, want 6 merged tensors", stdout)
	}
	// Again without --force: refused, output kept.
	if _, err := execCmd(t, newMergeCmd(), filepath.Join(dir, "gpt2-q8_0.gguf"), "--adapter", filepath.Join(dir, "gpt2-lora-r4.gguf"), "-o", out); !errors.Is(err, format.ErrExists) {
		t.Errorf("merge over an existing output = %v, want ErrExists", err)
	}
	// Combine without a base: cat of the adapter with itself.
	comb := filepath.Join(tmp, "comb")
	if _, err := execCmd(t, newMergeCmd(), "--adapter", filepath.Join(dir, "gpt2-lora-r4.gguf"), "--adapter", filepath.Join(dir, "gpt2-lora-r4.gguf")+":0.5", "--method", "cat", "-o", comb); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(comb, "adapter_config.json")); err != nil {
		t.Errorf("combined adapter: %v", err)
	}
}

func TestExtractCmd(t *testing.T) {
	dir := sharedPath(t, "fixtures")
	out := filepath.Join(t.TempDir(), "ex")
	stdout, err := execCmd(t, newExtractCmd(), "--base", filepath.Join(dir, "gpt2-f32.gguf"), "--tuned", filepath.Join(dir, "gpt2-merged-f32.gguf"), "--rank", "4", "-o", out)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(stdout, "blk."); got != 6 {
		t.Errorf("extract reported %d modules, want 6:\n%s", got, stdout)
	}
	if _, err := execCmd(t, newExtractCmd(), "--base", "a", "--tuned", "b", "-o", out); err == nil {
		t.Errorf("extract without --rank or --energy succeeded")
	}
}
