package encoder

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/convert"
)

// convertToGGUF converts an HF directory with lorakit's converter.
func convertToGGUF(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(dir)+".gguf")
	if err := convert.Model(context.Background(), dir, out, convert.ModelOptions{}); err != nil {
		t.Fatalf("convert %s: %v", dir, err)
	}
	return out
}
