package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.bin")

	f, err := Create(out, false)
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

	f, _ = Create(out, false)
	f.WriteString("whole")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "whole" {
		t.Fatalf("committed content = %q", b)
	}
	assertOnlyFiles(t, dir, "out.bin")

	if _, err := Create(out, false); !errors.Is(err, format.ErrExists) {
		t.Errorf("Create over existing without force: %v, want format.ErrExists", err)
	}
	f, err = Create(out, true)
	if err != nil {
		t.Fatalf("Create with force: %v", err)
	}
	f.Abort()

	format.MarkInput(out)
	if _, err := Create(out, true); !errors.Is(err, format.ErrExists) {
		t.Errorf("Create over an input with force: %v, want format.ErrExists", err)
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

// TestFileRace: a target that appears while a run without force writes it
// is kept, and the run fails with format.ErrExists leaving nothing.
func TestFileRace(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.bin")
	f, err := Create(out, false)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("second")
	if err := os.WriteFile(out, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); !errors.Is(err, format.ErrExists) {
		t.Errorf("Commit over a target that appeared meanwhile: %v, want format.ErrExists", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "first" {
		t.Errorf("the first run's output became %q", b)
	}
	assertOnlyFiles(t, dir, "out.bin")
}

// TestStaleTemporaries: a temporary output of a process that no longer
// exists is removed by the next run; RemoveTemporaries removes this
// process's own.
func TestStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.bin")
	stale := filepath.Join(dir, ".out.bin.tmp-999999999-42") // beyond any pid_max
	os.WriteFile(stale, []byte("left by a killed run"), 0o644)
	f, err := Create(out, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file kept: %v", err)
	}
	RemoveTemporaries()
	assertOnlyFiles(t, dir)
	f.Abort()
}

// TestWriteDirReplaceAndRace: with force a directory is replaced as a
// whole; without force one that appears meanwhile is kept.
func TestWriteDirReplaceAndRace(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	write := func(force bool, content string, during func()) error {
		return WriteDir(out, force, func(n string) bool { return n == "a.txt" }, func(d string) error {
			if during != nil {
				during()
			}
			return os.WriteFile(filepath.Join(d, "a.txt"), []byte(content), 0o644)
		})
	}
	if err := write(false, "one", nil); err != nil {
		t.Fatal(err)
	}
	if err := write(true, "two", nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "a.txt")); string(b) != "two" {
		t.Errorf("after --force the file holds %q, want two", b)
	}
	assertOnlyFiles(t, parent, "out")
	other := filepath.Join(parent, "other")
	err := WriteDir(other, false, nil, func(d string) error {
		return os.Mkdir(other, 0o755) // another run got there first
	})
	if !errors.Is(err, format.ErrExists) {
		t.Errorf("directory that appeared meanwhile: %v, want format.ErrExists", err)
	}
	assertOnlyFiles(t, parent, "other", "out")
}
