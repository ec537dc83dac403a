package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
)

// WriteDir builds a directory with fill inside a temporary directory
// beside target, syncs every file in it to disk and renames it into place,
// so that target is either absent, its old self, or complete. An existing
// target is refused without force (also one that appears while fill runs);
// with force it is replaced, in one atomic exchange where the system has
// one, only if every entry in it is a plain file that replaceable accepts
// by name and none is an input of this process (so a mistyped -o never
// deletes a folder of other things).
func WriteDir(target string, force bool, replaceable func(name string) bool, fill func(dir string) error) error {
	if err := checkDirOutput(target, force, replaceable); err != nil {
		return err
	}
	parent, base := filepath.Split(filepath.Clean(target))
	if parent == "" {
		parent = "."
	}
	removeStaleTemps(parent, base)
	tmp, err := os.MkdirTemp(parent, tempPattern(base))
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	trackTemp(tmp)
	committed := false
	defer func() {
		if !committed {
			removeTemp(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	if err := syncTree(tmp); err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	if _, err := os.Lstat(target); err != nil || !force {
		if err := commitRename(tmp, target, false, true); err != nil {
			return err
		}
		committed = true
		untrackTemp(tmp)
		return syncDir(parent)
	}
	// Replace: check again, then swap the two directories in one step.
	if err := checkDirOutput(target, force, replaceable); err != nil {
		return err
	}
	err = renameExchange(tmp, target)
	if errors.Is(err, errExchangeUnsupported) {
		err = replaceDirTwoSteps(tmp, target)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	committed = true
	removeTemp(tmp) // after the exchange, tmp holds the old directory
	return syncDir(parent)
}

// replaceDirTwoSteps replaces target by tmp where no atomic exchange
// exists: the old directory moves aside, the new one takes its name, and
// the old one is put back if that fails. On success tmp names the old one.
func replaceDirTwoSteps(tmp, target string) error {
	old := tmp + ".old"
	if err := os.Rename(target, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Rename(old, target) // put the old one back
		return err
	}
	return os.Rename(old, tmp)
}

// syncTree flushes every file and directory under dir to disk.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && !e.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil && !(e.IsDir() && isSyncUnsupported(err)) {
			return err
		}
		return nil
	})
}

// checkDirOutput applies the output rules to a directory target.
func checkDirOutput(target string, force bool, replaceable func(string) bool) error {
	st, err := os.Lstat(target)
	if err != nil {
		return nil // absent
	}
	if format.IsInput(target, st) {
		return fmt.Errorf("%s: refusing to overwrite an input: %w", target, format.ErrExists)
	}
	if !force {
		return fmt.Errorf("%s: already exists (use --force to replace it): %w", target, format.ErrExists)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: exists and is not a directory: %w", target, format.ErrExists)
	}
	entries, err := os.ReadDir(target)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	for _, e := range entries {
		if e.IsDir() || replaceable == nil || !replaceable(e.Name()) {
			return fmt.Errorf("%s: holds %q, which lorakit did not write; refusing to replace it: %w", target, e.Name(), format.ErrExists)
		}
		if err := CheckOutput(filepath.Join(target, e.Name()), true); err != nil {
			return err
		}
	}
	return nil
}
