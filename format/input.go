package format

import (
	"fmt"
	"io"
	"os"
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
