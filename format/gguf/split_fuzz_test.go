package gguf

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// FuzzSplitSet opens arbitrary bytes as the first shard of a two-shard set
// whose second shard is llama-gguf-split's: what fails must fail with a
// format sentinel; what opens must hand out every tensor it lists.
func FuzzSplitSet(f *testing.F) {
	var second []byte
	if shared := testshared.Find(); shared != "" {
		dir := filepath.Join(shared, "fixtures", "split")
		first, err := os.ReadFile(filepath.Join(dir, "gpt2-f32-00001-of-00002.gguf"))
		if err == nil {
			f.Add(first)
		}
		second, _ = os.ReadFile(filepath.Join(dir, "gpt2-f32-00002-of-00002.gguf"))
	}
	f.Add([]byte("GGUF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		first := filepath.Join(dir, "m-00001-of-00002.gguf")
		if err := os.WriteFile(first, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if second != nil {
			if err := os.WriteFile(filepath.Join(dir, "m-00002-of-00002.gguf"), second, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		src, err := OpenModel(first)
		if err != nil {
			if !errors.Is(err, format.ErrFormat) && !errors.Is(err, format.ErrUnsupported) && !errors.Is(err, format.ErrNotFound) && !errors.Is(err, format.ErrShape) {
				t.Fatalf("OpenModel: %v wraps no format sentinel", err)
			}
			return
		}
		defer src.Close()
		for _, ti := range src.Tensors() {
			if _, err := src.TensorData(ti.Name); err != nil {
				t.Fatalf("tensor %q listed but not readable: %v", ti.Name, err)
			}
		}
	})
}
