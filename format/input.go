package format

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// ConfigLimit bounds the JSON files lorakit reads whole (config.json,
// adapter_config.json, index files): the largest real ones are well under
// a megabyte, so anything near this is not a configuration file.
const ConfigLimit = 16 << 20

// OpenInput opens the file at path for reading and records it as an input
// (see MarkInput). A missing file wraps ErrNotFound, a directory ErrFormat.
func OpenInput(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, notFound(err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory: %w", path, ErrFormat)
	}
	MarkInput(path)
	return f, nil
}

// ReadInput reads the whole file at path, refusing one longer than limit
// bytes (wrapping ErrUnsupported) without reading past the limit, so a
// device such as /dev/zero or a runaway file costs at most limit bytes. The
// file is recorded as an input.
func ReadInput(path string, limit int64) ([]byte, error) {
	f, err := OpenInput(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: longer than %d bytes, more than such a file holds: %w", path, limit, ErrUnsupported)
	}
	return data, nil
}

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

// MarkInput records path as an input of this process: lorakit's writers
// refuse to write over it, even with force (see IsInput). For a directory,
// every file in it counts as an input too. Readers call it when they open a
// file (OpenInput and ReadInput do).
func MarkInput(path string) {
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	inputsMu.Lock()
	inputs = append(inputs, input{path, st})
	inputsMu.Unlock()
}

// IsInput reports whether the file at path, which is st now (as os.Stat or
// os.Lstat describes it), is an input of this process (see MarkInput) or
// lies directly inside an input directory. Outputs check it before they
// replace a file.
func IsInput(path string, st os.FileInfo) bool {
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
