//go:build !linux

package atomicfile

import "errors"

// renameNoReplace renames from to to, failing with an error matching
// os.ErrExist when to exists.
func renameNoReplace(from, to string, dir bool) error {
	return renameNoReplacePortable(from, to, dir)
}

// renameExchange is Linux-only.
func renameExchange(a, b string) error { return errExchangeUnsupported }

func isSyncUnsupported(err error) bool { return errors.Is(err, errors.ErrUnsupported) }
