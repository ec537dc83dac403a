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
}

// TestCombineCmd: combine writes the combined adapter; merge without BASE
// writes the same bytes and says on stderr that the form is deprecated;
// combine takes no base and refuses merge's --dtype.
func TestCombineCmd(t *testing.T) {
	dir := sharedPath(t, "fixtures")
	tmp := t.TempDir()
	lora := filepath.Join(dir, "gpt2-lora-r4.gguf")
	comb, old := filepath.Join(tmp, "comb.gguf"), filepath.Join(tmp, "old.gguf")
	if _, stderr, code := lorakit(t, "combine", "-a", lora, "-a", lora+":0.5", "--method", "cat", "-o", comb); code != 0 || stderr != "" {
		t.Fatalf("combine: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code := lorakit(t, "merge", "-a", lora, "-a", lora+":0.5", "--method", "cat", "-o", old)
	if code != 0 || !strings.Contains(stderr, "deprecated") || !strings.Contains(stderr, "lorakit combine") {
		t.Fatalf("merge without BASE: exit %d, stderr %q; want 0 and a deprecation note naming combine", code, stderr)
	}
	a, err := os.ReadFile(comb)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(old)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("combine and merge without BASE wrote different adapters")
	}
	for _, args := range [][]string{
		{"combine", filepath.Join(dir, "gpt2-f32.gguf"), "-a", lora, "-o", filepath.Join(tmp, "x.gguf")},
		{"combine", "-a", lora, "-o", filepath.Join(tmp, "y.gguf"), "--dtype", "f16"},
		{"merge", "-a", lora, "-o", filepath.Join(tmp, "z.gguf"), "--split-max-tensors", "2"},
	} {
		if _, _, code := lorakit(t, args...); code != exitUsage {
			t.Errorf("lorakit %v: exit %d, want %d", args, code, exitUsage)
		}
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
