// Package testshared locates the reference material tests compare against:
// the ../shared folder beside the module's checkout (real files written by
// other tools, llama.cpp fixtures). A test that needs it skips, with a
// message, only when the folder itself is absent; when the folder is there
// (as in CI) a missing or unreadable file fails the test, so a reference
// that went astray can never turn a check into a silent skip.
package testshared

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Path returns ../shared/rel beside the module root (rel "" for the folder
// itself). It skips the test when ../shared is absent and fails it when
// ../shared exists but rel is missing or cannot be read.
func Path(t testing.TB, rel string) string {
	t.Helper()
	dir := Find()
	if dir == "" {
		t.Skipf("reference folder ../shared is absent; skipping test that needs %s", rel)
	}
	p := filepath.Join(dir, rel)
	if err := readable(p); err != nil {
		t.Fatalf("reference material missing from ../shared: %v", err)
	}
	return p
}

// Glob returns the files of ../shared matching pattern (relative to it). It
// skips when ../shared is absent and fails when nothing matches.
func Glob(t testing.TB, pattern string) []string {
	t.Helper()
	dir := Path(t, "")
	files, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no reference files match ../shared/%s (err %v)", pattern, err)
	}
	return files
}

// readable reports why p cannot be read: absent, or a file that does not
// open, or a directory that does not list.
func readable(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		_, err = f.Readdirnames(1)
		if errors.Is(err, io.EOF) {
			return nil // an empty folder reads fine
		}
		return err
	}
	var b [1]byte
	if _, err := f.Read(b[:]); err != nil && st.Size() > 0 {
		return err
	}
	return nil
}

// Find returns the ../shared folder beside the module root, or "" when it
// is absent (for fuzz seeds and other optional uses that must not skip).
func Find() string {
	root, err := moduleRoot()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(root), "shared")
	if st, err := os.Stat(p); err != nil || !st.IsDir() {
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

// Numbers reads a reference file of white-space-separated numbers (the
// numpy references' one value a line), failing the test on a word that is
// not a number.
func Numbers(t testing.TB, path string) []float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, f := range strings.Fields(string(data)) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}
