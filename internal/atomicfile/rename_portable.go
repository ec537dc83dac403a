package atomicfile

import (
	"errors"
	"os"
)

// errExchangeUnsupported: the system cannot swap two paths atomically.
var errExchangeUnsupported = errors.New("atomic exchange unsupported")

// renameNoReplacePortable is renameNoReplace without renameat2: a file is
// hard-linked to its target (link fails when the target exists) and the
// temporary name removed; a directory is renamed after checking that the
// target is absent (a small window remains where no better call exists).
func renameNoReplacePortable(from, to string, dir bool) error {
	if !dir {
		if err := os.Link(from, to); err == nil {
			return os.Remove(from)
		} else if errors.Is(err, os.ErrExist) {
			return err
		}
		// No hard links on this file system: fall through.
	}
	if _, err := os.Lstat(to); err == nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: os.ErrExist}
	}
	return os.Rename(from, to)
}
