package release

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// fileSum returns the hex sha256 of a file.
func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// files lists every regular file under dir (slash-separated, relative,
// sorted), leaving out SHA256SUMS itself.
func files(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err == nil && rel != SumsFile {
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	sort.Strings(out)
	return out, err
}

// writeSums writes SHA256SUMS in sha256sum's format ("<hex>  <file>").
func writeSums(dir string) error {
	names, err := files(dir)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, n := range names {
		sum, err := fileSum(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, n)
	}
	return os.WriteFile(filepath.Join(dir, SumsFile), []byte(b.String()), 0o644)
}

// checkSums checks every file of dir against SHA256SUMS, and that no file
// was added or removed. Errors name the file and wrap format.ErrFormat.
func checkSums(dir string) error {
	f, err := os.Open(filepath.Join(dir, SumsFile))
	if err != nil {
		return fmt.Errorf("release %s: %w", dir, err)
	}
	defer f.Close()
	listed := map[string]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			return fmt.Errorf("release %s: %s line %d: not \"<sha256>  <file>\": %w", dir, SumsFile, line, format.ErrFormat)
		}
		listed[name] = sum
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("release %s: %s: %w", dir, SumsFile, err)
	}
	names, err := files(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		want, ok := listed[n]
		if !ok {
			return fmt.Errorf("release %s: %s is not in %s: %w", dir, n, SumsFile, format.ErrFormat)
		}
		delete(listed, n)
		got, err := fileSum(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("release %s: %s: sha256 %s, %s says %s: %w", dir, n, got, SumsFile, want, format.ErrFormat)
		}
	}
	for n := range listed {
		return fmt.Errorf("release %s: %s lists %s, which is missing: %w", dir, SumsFile, n, format.ErrNotFound)
	}
	return nil
}
