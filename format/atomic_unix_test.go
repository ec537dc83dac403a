//go:build unix

package format

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestCheckOutputRefuses: special files and files inside an input directory
// are never outputs, even with force.
func TestCheckOutputRefuses(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "indir")
	os.Mkdir(in, 0o755)
	cfg := filepath.Join(in, "config.json")
	os.WriteFile(cfg, []byte("{}"), 0o644)
	MarkInput(in)
	for _, p := range []string{fifo, os.DevNull, cfg} {
		if err := CheckOutput(p, true); !errors.Is(err, ErrExists) {
			t.Errorf("CheckOutput(%s, force) = %v, want ErrExists", p, err)
		}
		if f, err := CreateAtomic(p, true); err == nil {
			f.Abort()
			t.Errorf("CreateAtomic(%s, force) accepted", p)
		}
	}
	if err := WriteDirAtomic(in, true, func(string) bool { return true }, func(string) error { return nil }); !errors.Is(err, ErrExists) {
		t.Errorf("WriteDirAtomic over an input directory: %v, want ErrExists", err)
	}
	if st, err := os.Stat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", st, err)
	}
}
