package format

import (
	"os"
	"path/filepath"
	"testing"
)

// TestIsInput: a marked file, and a file directly inside a marked
// directory, are inputs; an unmarked file, a directory inside a marked one
// and a new file made after a marked one was deleted (which may get its
// inode) are not.
func TestIsInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	marked, other, gone := write("marked.bin"), write("other.bin"), write("gone.bin")
	in := filepath.Join(dir, "in")
	sub := filepath.Join(in, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	inside := write("in/config.json")
	MarkInput(marked)
	MarkInput(in)
	MarkInput(gone)
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	fresh := write("fresh.bin")
	for _, c := range []struct {
		path string
		want bool
	}{
		{marked, true},
		{inside, true},
		{other, false},
		{sub, false},
		{fresh, false},
	} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := IsInput(c.path, st); got != c.want {
			t.Errorf("IsInput(%s) = %v, want %v", c.path, got, c.want)
		}
	}
}
