package format

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// inputs remembers the files this process opened for reading, so that no
// output can ever replace one of them.
var (
	inputsMu sync.Mutex
	inputs   []input
)

// input is a file or directory opened for reading: its path and what it
// was then.
type input struct {
	path string
	st   os.FileInfo
}

// MarkInput records path as an input of this process: CreateAtomic and
// WriteDirAtomic will refuse to write over it, even with force. For a
// directory, every file in it counts as an input too. Readers call it when
// they open a file (OpenInput and ReadInput do).
func MarkInput(path string) {
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	inputsMu.Lock()
	inputs = append(inputs, input{path, st})
	inputsMu.Unlock()
}

// isInput reports whether the file at path (now st) is an input, or lies
// directly inside an input directory.
func isInput(path string, st os.FileInfo) bool {
	var parent os.FileInfo
	if pst, err := os.Stat(filepath.Dir(path)); err == nil {
		parent = pst
	}
	inputsMu.Lock()
	defer inputsMu.Unlock()
	for _, in := range inputs {
		hit := os.SameFile(in.st, st) || (parent != nil && in.st.IsDir() && !st.IsDir() && os.SameFile(in.st, parent))
		if !hit {
			continue
		}
		// The inode of a deleted input may be reused by a new file: it is
		// the input only if the input's path still leads to it.
		if now, err := os.Stat(in.path); err == nil && os.SameFile(now, in.st) {
			return true
		}
	}
	return false
}

// CheckOutput returns an error wrapping ErrExists when path exists and force
// is false, when path is an input of this process or a file inside an input
// directory (whatever force says), and when path is not a regular file (a
// directory, device, FIFO or socket: never replaced).
func CheckOutput(path string, force bool) error {
	st, err := os.Stat(path)
	if err != nil {
		return nil // absent: fine
	}
	if isInput(path, st) {
		return fmt.Errorf("%s: refusing to overwrite an input file: %w", path, ErrExists)
	}
	if st.IsDir() {
		return fmt.Errorf("%s: is a directory: %w", path, ErrExists)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: is %s, not a regular file; refusing to replace it: %w", path, specialKind(st.Mode()), ErrExists)
	}
	if !force {
		return fmt.Errorf("%s: already exists (use --force to replace it): %w", path, ErrExists)
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

// AtomicFile is an output file written under a temporary name beside its
// target and renamed into place by Commit, so that readers never see a
// partial file and a failed write leaves nothing behind.
type AtomicFile struct {
	*os.File
	target string
	force  bool
	done   bool
}

// CreateAtomic starts an output file for target. See CheckOutput for when it
// refuses. Temporary files that dead lorakit processes left beside target
// are removed.
func CreateAtomic(target string, force bool) (*AtomicFile, error) {
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
	return &AtomicFile{File: f, target: target, force: force}, nil
}

// Target is the final path of the file.
func (f *AtomicFile) Target() string { return f.target }

// Commit flushes the file to disk and renames it to its target: without
// force only if the target is still absent (a concurrent run that got there
// first wins, and this one fails with ErrExists), with force replacing it.
// The directory is synced afterwards, so the rename survives a crash.
func (f *AtomicFile) Commit() error {
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
			return fmt.Errorf("%s: appeared while this run was writing it (use --force to replace it): %w", target, ErrExists)
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
func (f *AtomicFile) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.File.Close()
	return removeTemp(f.Name())
}

// Temporary outputs are named .TARGET.tmp-PID-RANDOM, so that a later run
// can tell whether the process that made one is still alive.
func tempPattern(base string) string {
	return "." + base + ".tmp-" + strconv.Itoa(os.Getpid()) + "-*"
}

// removeStaleTemps removes the temporary outputs for base in dir whose
// process has ended (killed before it could clean up).
func removeStaleTemps(dir, base string) {
	prefix := "." + base + ".tmp-"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// temps are this process's temporary outputs not yet committed or removed,
// so that RemoveTemporaries can clean up when the process must end at once.
var (
	tempsMu sync.Mutex
	temps   = map[string]bool{}
)

func trackTemp(p string) {
	tempsMu.Lock()
	temps[p] = true
	tempsMu.Unlock()
}

func untrackTemp(p string) {
	tempsMu.Lock()
	delete(temps, p)
	tempsMu.Unlock()
}

// removeTemp deletes a temporary output (file or directory) and forgets it.
func removeTemp(p string) error {
	untrackTemp(p)
	return os.RemoveAll(p)
}

// RemoveTemporaries deletes every temporary output of this process that is
// not committed yet. A program that must exit at once (a second Ctrl-C)
// calls it so that nothing is left behind.
func RemoveTemporaries() {
	tempsMu.Lock()
	defer tempsMu.Unlock()
	for p := range temps {
		os.RemoveAll(p)
		delete(temps, p)
	}
}
