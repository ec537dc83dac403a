package train

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// Digest fingerprints the input at path for a checkpoint, so that a resumed
// run can tell it is given the data and base it started with: the sha256
// of a file's bytes; for a directory (a Hugging Face model), of each
// regular file's name and bytes, in name order.
func Digest(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("train: %w", err)
	}
	h := sha256.New()
	files := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return "", fmt.Errorf("train: %w", err)
		}
		files = files[:0]
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		slices.Sort(files)
	}
	for _, p := range files {
		if st.IsDir() {
			fmt.Fprintf(h, "%s\x00", filepath.Base(p))
		}
		if err := hashFile(h, p); err != nil {
			return "", fmt.Errorf("train: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(h, f)
	return err
}

// ErrCheckpointMismatch: a checkpoint was made from other inputs than
// those a resumed run is given.
var ErrCheckpointMismatch = errors.New("the checkpoint belongs to a run on other inputs")

// checkInputs refuses to resume a run whose inputs (role -> Digest) differ
// from those the checkpoint recorded. A role recorded on one side only
// (an older checkpoint, an input added now) is not compared.
func checkInputs(saved, now map[string]string, dir string) error {
	for _, role := range slices.Sorted(func(yield func(string) bool) {
		for k := range saved {
			if !yield(k) {
				return
			}
		}
	}) {
		if cur, ok := now[role]; ok && cur != saved[role] {
			return fmt.Errorf("train: %s: the %s differs from the one the run started with (sha256 %.12s…, now %.12s…); resume with the same %s or start over with --force: %w",
				dir, role, saved[role], cur, role, ErrCheckpointMismatch)
		}
	}
	return nil
}
