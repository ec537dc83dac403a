//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/lorakit/lorakit/format"
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
	format.MarkInput(in)
	for _, p := range []string{fifo, os.DevNull, cfg} {
		if err := CheckOutput(p, true); !errors.Is(err, format.ErrExists) {
			t.Errorf("CheckOutput(%s, force) = %v, want format.ErrExists", p, err)
		}
		if f, err := Create(p, true); err == nil {
			f.Abort()
			t.Errorf("Create(%s, force) accepted", p)
		}
	}
	if err := WriteDir(in, true, func(string) bool { return true }, func(string) error { return nil }); !errors.Is(err, format.ErrExists) {
		t.Errorf("WriteDir over an input directory: %v, want format.ErrExists", err)
	}
	if st, err := os.Stat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", st, err)
	}
}
