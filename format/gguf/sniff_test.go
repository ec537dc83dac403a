package gguf

import (
	"os"
	"path/filepath"
	"testing"
)

// TestIsFile: only a file that starts with the four magic bytes is GGUF.
func TestIsFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		want          bool
	}{
		{"model.gguf", "GGUF\x03\x00\x00\x00", true},
		{"magic-only", "GGUF", true},
		{"short", "GGU", false},
		{"safetensors", "\x08\x00\x00\x00\x00\x00\x00\x00{}", false},
		{"empty", "", false},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := IsFile(path); got != tc.want {
			t.Errorf("IsFile(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
	if IsFile(filepath.Join(dir, "missing")) {
		t.Error("IsFile(missing) = true, want false")
	}
}
