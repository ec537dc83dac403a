package format

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.bin")

	f, err := CreateAtomic(out, false)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("partial")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("target visible before Commit: %v", err)
	}
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	assertOnlyFiles(t, dir)

	f, _ = CreateAtomic(out, false)
	f.WriteString("whole")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "whole" {
		t.Fatalf("committed content = %q", b)
	}
	assertOnlyFiles(t, dir, "out.bin")

	if _, err := CreateAtomic(out, false); !errors.Is(err, ErrExists) {
		t.Errorf("CreateAtomic over existing without force: %v, want ErrExists", err)
	}
	f, err = CreateAtomic(out, true)
	if err != nil {
		t.Fatalf("CreateAtomic with force: %v", err)
	}
	f.Abort()

	MarkInput(out)
	if _, err := CreateAtomic(out, true); !errors.Is(err, ErrExists) {
		t.Errorf("CreateAtomic over an input with force: %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "whole" {
		t.Fatalf("input modified: %q", b)
	}
}

// assertOnlyFiles fails unless dir holds exactly the named files.
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(names) {
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		t.Fatalf("dir holds %v, want %v", got, names)
	}
	for i, e := range entries {
		if e.Name() != names[i] {
			t.Fatalf("dir holds %s, want %s", e.Name(), names[i])
		}
	}
}
