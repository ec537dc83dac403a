package format

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// inputs remembers the files this process opened for reading, so that no
// output can ever replace one of them.
var (
	inputsMu sync.Mutex
	inputs   []input
)

// input is a file opened for reading: its path and what it was then.
type input struct {
	path string
	st   os.FileInfo
}

// MarkInput records path as an input of this process: CreateAtomic will
// refuse to write over it, even with force. Readers call it when they open a
// file.
func MarkInput(path string) {
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	inputsMu.Lock()
	inputs = append(inputs, input{path, st})
	inputsMu.Unlock()
}

func isInput(st os.FileInfo) bool {
	inputsMu.Lock()
	defer inputsMu.Unlock()
	for _, in := range inputs {
		if !os.SameFile(in.st, st) {
			continue
		}
		// The inode of a deleted input may be reused by a new file: it is
		// the input only if the input's path still leads to it.
		if now, err := os.Stat(in.path); err == nil && os.SameFile(now, st) {
			return true
		}
	}
	return false
}

// CheckOutput returns an error wrapping ErrExists when path exists and force
// is false, or when path is an input of this process (whatever force says).
func CheckOutput(path string, force bool) error {
	st, err := os.Stat(path)
	if err != nil {
		return nil // absent: fine
	}
	if isInput(st) {
		return fmt.Errorf("%s: refusing to overwrite an input file: %w", path, ErrExists)
	}
	if st.IsDir() {
		return fmt.Errorf("%s: is a directory: %w", path, ErrExists)
	}
	if !force {
		return fmt.Errorf("%s: already exists (use --force to replace it): %w", path, ErrExists)
	}
	return nil
}

// AtomicFile is an output file written under a temporary name beside its
// target and renamed into place by Commit, so that readers never see a
// partial file and a failed write leaves nothing behind.
type AtomicFile struct {
	*os.File
	target string
	done   bool
}

// CreateAtomic starts an output file for target. See CheckOutput for when it
// refuses.
func CreateAtomic(target string, force bool) (*AtomicFile, error) {
	if err := CheckOutput(target, force); err != nil {
		return nil, err
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	// CreateTemp makes the file private; outputs get the usual mode.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	return &AtomicFile{File: f, target: target}, nil
}

// Target is the final path of the file.
func (f *AtomicFile) Target() string { return f.target }

// Commit flushes the file to disk and renames it to its target.
func (f *AtomicFile) Commit() error {
	if f.done {
		return fmt.Errorf("%s: already committed or aborted", f.target)
	}
	f.done = true
	tmp := f.Name()
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", f.target, err)
	}
	if err := f.File.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", f.target, err)
	}
	if err := os.Rename(tmp, f.target); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", f.target, err)
	}
	if d, err := os.Open(filepath.Dir(f.target)); err == nil {
		d.Sync() // best effort: persist the rename
		d.Close()
	}
	return nil
}

// Abort closes and removes the temporary file. It is a no-op after Commit.
func (f *AtomicFile) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.File.Close()
	return os.Remove(f.Name())
}
