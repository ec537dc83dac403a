package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
)

func sharedPath(t *testing.T, rel string) string {
	t.Helper()
	return testshared.Path(t, rel)
}

// lorakit runs the command line in-process and returns stdout, stderr and
// the exit status.
func lorakit(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestInspectHashesMatchLlamaCpp(t *testing.T) {
	dir := sharedPath(t, "fixtures")
	files := testshared.Glob(t, "fixtures/*.gguf")
	for _, f := range files {
		stem := strings.TrimSuffix(filepath.Base(f), ".gguf")
		t.Run(stem, func(t *testing.T) {
			out, errs, code := lorakit(t, "inspect", "--json", "--hash", f)
			if code != 0 {
				t.Fatalf("inspect exit %d: %s", code, errs)
			}
			var rep inspectReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("inspect --json is not one JSON object: %v", err)
			}
			if rep.Format != "gguf" || rep.Version != 3 {
				t.Errorf("format %q v%d, want gguf v3", rep.Format, rep.Version)
			}
			want := testshared.TensorHashes(t, filepath.Join(dir, "tensor-sha256", stem+".txt"))
			if len(want) != len(rep.Tensors) {
				t.Fatalf("%d tensors, llama-gguf-hash lists %d", len(rep.Tensors), len(want))
			}
			for _, ti := range rep.Tensors {
				if ti.SHA256 != want[ti.Name] {
					t.Errorf("tensor %s sha256 %s, llama-gguf-hash %s", ti.Name, ti.SHA256, want[ti.Name])
				}
			}
		})
	}
}

func TestExitStatus(t *testing.T) {
	f32 := sharedPath(t, "fixtures/gpt2-f32.gguf")
	f16 := sharedPath(t, "fixtures/gpt2-f16.gguf")
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"no args", []string{"inspect"}, exitUsage},
		{"bad flag", []string{"inspect", "--nope", f32}, exitUsage},
		{"unknown command", []string{"frobnicate"}, exitUsage},
		{"missing file", []string{"inspect", "/nonexistent/x.gguf"}, exitFail},
		{"diff same", []string{"diff", f32, f32}, exitOK},
		{"diff differs", []string{"diff", f32, f16}, exitFail},
		{"diff within", []string{"diff", "--atol", "1e-3", f32, f16}, exitOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, errs, code := lorakit(t, c.args...)
			if code != c.code {
				t.Errorf("lorakit %v = exit %d, want %d (stderr %q)", c.args, code, c.code, errs)
			}
			if code != exitOK && strings.Count(strings.TrimSpace(errs), "\n") > 1 {
				t.Errorf("error is more than a line or two: %q", errs)
			}
		})
	}
}
