package format

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteDirAtomic builds a directory with fill inside a temporary directory
// beside target and renames it into place, so that target is either absent,
// its old self, or complete. An existing target is refused without force;
// with force it is replaced only if every entry in it is a plain file that
// replaceable accepts by name and none is an input of this process (so a
// mistyped -o never deletes a folder of other things).
func WriteDirAtomic(target string, force bool, replaceable func(name string) bool, fill func(dir string) error) error {
	if err := checkDirOutput(target, force, replaceable); err != nil {
		return err
	}
	parent, base := filepath.Split(filepath.Clean(target))
	if parent == "" {
		parent = "."
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	var old string
	if _, err := os.Lstat(target); err == nil {
		old = tmp + ".old"
		if err := os.Rename(target, old); err != nil {
			return fmt.Errorf("%s: %w", target, err)
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		if old != "" {
			os.Rename(old, target) // put the old one back
		}
		return fmt.Errorf("%s: %w", target, err)
	}
	committed = true
	if old != "" {
		os.RemoveAll(old)
	}
	if d, err := os.Open(parent); err == nil {
		d.Sync() // best effort: persist the rename
		d.Close()
	}
	return nil
}

// checkDirOutput applies the output rules to a directory target.
func checkDirOutput(target string, force bool, replaceable func(string) bool) error {
	st, err := os.Lstat(target)
	if err != nil {
		return nil // absent
	}
	if !force {
		return fmt.Errorf("%s: already exists (use --force to replace it): %w", target, ErrExists)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: exists and is not a directory: %w", target, ErrExists)
	}
	entries, err := os.ReadDir(target)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	for _, e := range entries {
		if e.IsDir() || replaceable == nil || !replaceable(e.Name()) {
			return fmt.Errorf("%s: holds %q, which lorakit did not write; refusing to replace it: %w", target, e.Name(), ErrExists)
		}
		if err := CheckOutput(filepath.Join(target, e.Name()), true); err != nil {
			return err
		}
	}
	return nil
}
