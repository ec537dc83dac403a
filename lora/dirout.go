package lora

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
)

// adapterFiles are the names an adapter directory may hold; force replaces
// only a directory made of these (so a mistyped -o never deletes a folder
// of other things).
var adapterFiles = map[string]bool{
	peftConfigFile: true, peftWeightsFile: true, peftPickleFile: true, mlxWeightsFile: true,
	"README.md": true, ".gitattributes": true,
}

// writeDirAtomic builds a directory with fill inside a temporary directory
// beside target and renames it into place, so that target is either absent,
// its old self, or complete. An existing target is refused without force,
// and with force it is replaced only if it is an adapter directory none of
// whose files is an input of this process.
func writeDirAtomic(target string, force bool, fill func(dir string) error) error {
	if err := checkDirOutput(target, force); err != nil {
		return err
	}
	parent, base := filepath.Split(filepath.Clean(target))
	if parent == "" {
		parent = "."
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("lora: %s: %w", target, err)
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
		return fmt.Errorf("lora: %s: %w", target, err)
	}
	var old string
	if _, err := os.Lstat(target); err == nil {
		old = tmp + ".old"
		if err := os.Rename(target, old); err != nil {
			return fmt.Errorf("lora: %s: %w", target, err)
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		if old != "" {
			os.Rename(old, target) // put the old one back
		}
		return fmt.Errorf("lora: %s: %w", target, err)
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
func checkDirOutput(target string, force bool) error {
	st, err := os.Lstat(target)
	if err != nil {
		return nil // absent
	}
	if !force {
		return fmt.Errorf("lora: %s: already exists (use --force to replace it): %w", target, format.ErrExists)
	}
	if !st.IsDir() {
		return fmt.Errorf("lora: %s: exists and is not a directory: %w", target, format.ErrExists)
	}
	entries, err := os.ReadDir(target)
	if err != nil {
		return fmt.Errorf("lora: %s: %w", target, err)
	}
	for _, e := range entries {
		if !adapterFiles[e.Name()] || e.IsDir() {
			return fmt.Errorf("lora: %s: holds %q, not only adapter files; refusing to replace it: %w", target, e.Name(), format.ErrExists)
		}
		if err := format.CheckOutput(filepath.Join(target, e.Name()), true); err != nil {
			return fmt.Errorf("lora: %w", err)
		}
	}
	return nil
}
