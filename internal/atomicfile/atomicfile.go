package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
)

// CheckOutput returns an error wrapping format.ErrExists when path exists
// and force is false, when path is an input of this process or a file
// inside an input directory (format.IsInput; whatever force says), and when
// path is not a regular file (a directory, device, FIFO or socket: never
// replaced).
func CheckOutput(path string, force bool) error {
	st, err := os.Stat(path)
	if err != nil {
		return nil // absent: fine
	}
	if format.IsInput(path, st) {
		return fmt.Errorf("%s: refusing to overwrite an input file: %w", path, format.ErrExists)
	}
	if st.IsDir() {
		return fmt.Errorf("%s: is a directory: %w", path, format.ErrExists)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: is %s, not a regular file; refusing to replace it: %w", path, specialKind(st.Mode()), format.ErrExists)
	}
	if !force {
		return fmt.Errorf("%s: already exists (use --force to replace it): %w", path, format.ErrExists)
	}
	return nil
}

// specialKind names a file type that is neither a regular file nor a
// directory.
func specialKind(m os.FileMode) string {
	switch {
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// File is an output file written under a temporary name beside its
// target and renamed into place by Commit, so that readers never see a
// partial file and a failed write leaves nothing behind.
type File struct {
	*os.File
	target string
	force  bool
	done   bool
}

// Create starts an output file for target. See CheckOutput for when it
// refuses. Temporary files that dead lorakit processes left beside target
// are removed.
func Create(target string, force bool) (*File, error) {
	if err := CheckOutput(target, force); err != nil {
		return nil, err
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	removeStaleTemps(dir, base)
	f, err := os.CreateTemp(dir, tempPattern(base))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	trackTemp(f.Name())
	// CreateTemp makes the file private; outputs get the usual mode.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		removeTemp(f.Name())
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	return &File{File: f, target: target, force: force}, nil
}

// Target is the final path of the file.
func (f *File) Target() string { return f.target }

// Commit flushes the file to disk and renames it to its target: without
// force only if the target is still absent (a concurrent run that got
// there first wins, and this one fails with format.ErrExists), with force
// replacing it. The directory is synced afterwards, so the rename survives
// a crash.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("%s: already committed or aborted", f.target)
	}
	f.done = true
	tmp := f.Name()
	fail := func(err error) error {
		removeTemp(tmp)
		return fmt.Errorf("%s: %w", f.target, err)
	}
	if err := f.Sync(); err != nil {
		f.File.Close()
		return fail(err)
	}
	if err := f.File.Close(); err != nil {
		return fail(err)
	}
	if err := commitRename(tmp, f.target, f.force, false); err != nil {
		removeTemp(tmp)
		return err
	}
	untrackTemp(tmp)
	return syncDir(filepath.Dir(f.target))
}

// commitRename moves the finished temporary tmp (a file, or a directory
// when dir) to target: atomically refusing an existing target without
// force; with force, after checking again that target may be replaced.
func commitRename(tmp, target string, force, dir bool) error {
	if !force {
		err := renameNoReplace(tmp, target, dir)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s: appeared while this run was writing it (use --force to replace it): %w", target, format.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", target, err)
		}
		return nil
	}
	if err := CheckOutput(target, true); err != nil && !dir {
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	return nil
}

// syncDir flushes a directory's entries (a rename in it) to disk. File
// systems that cannot sync a directory are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !isSyncUnsupported(err) {
		return fmt.Errorf("%s: %w", dir, err)
	}
	return nil
}

// Abort closes and removes the temporary file. It is a no-op after Commit.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.File.Close()
	return removeTemp(f.Name())
}
