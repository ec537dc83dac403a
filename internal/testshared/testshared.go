// Package testshared locates the reference material tests compare against:
// the ../shared folder beside the module's checkout (real files written by
// other tools, llama.cpp fixtures). Tests that need it skip, with a message,
// when it is absent.
package testshared

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Path returns ../shared/rel beside the module root (rel "" for the folder
// itself), skipping the test when it does not exist.
func Path(t testing.TB, rel string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Skipf("module root not found (%v); skipping test that needs ../shared", err)
	}
	p := filepath.Join(filepath.Dir(root), "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("reference material %s is absent; skipping", p)
	}
	return p
}

// Find returns the ../shared folder beside the module root, or "" when it
// is absent (for fuzz seeds and other optional uses that must not skip).
func Find() string {
	root, err := moduleRoot()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(root), "shared")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// moduleRoot walks up from the working directory (the package under test)
// to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// TensorHashes parses a listing of llama-gguf-hash --sha256 (the fixtures'
// tensor-sha256/<stem>.txt): tensor name -> hex sha256 of its raw bytes.
// The whole-file line, which names no tensor, is left out.
func TensorHashes(t testing.TB, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 3 || fields[0] != "sha256" {
			continue
		}
		if _, name, ok := strings.Cut(fields[2], ":"); ok {
			out[name] = fields[1]
		}
	}
	return out
}
