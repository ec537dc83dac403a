package mmap

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// Mapping is a read-only view of a whole file, memory-mapped where the
// platform allows (so opening a file reads none of its data) and read into
// memory elsewhere.
type Mapping struct {
	data   []byte
	unmap  func([]byte) error
	closed bool
}

// Open maps the file at path read-only and records it as an input (it
// opens it with format.OpenInput: a missing file wraps format.ErrNotFound,
// a directory format.ErrFormat).
func Open(path string) (*Mapping, error) {
	f, err := format.OpenInput(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	size := st.Size()
	if size != int64(int(size)) {
		return nil, fmt.Errorf("%s: %d bytes do not fit in memory: %w", path, size, format.ErrUnsupported)
	}
	if size == 0 {
		return &Mapping{data: []byte{}}, nil
	}
	data, unmap, err := mapFile(f, int(size))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := &Mapping{data: data, unmap: unmap}
	trackMapping(m, path)
	return m, nil
}

// Bytes returns the file's contents. The slice is invalid after Close and
// must not be modified.
func (m *Mapping) Bytes() []byte { return m.data }

// Release tells the OS that the file bytes [off, off+n) are not needed for
// now: their pages leave this process's resident memory (a later read
// brings them back from the page cache). Streaming passes over files larger
// than memory call it after each tensor so their RSS stays bounded. Only
// whole pages inside the range are released.
func (m *Mapping) Release(off, n int64) {
	if m.closed || m.unmap == nil || off < 0 || n <= 0 || off+n > int64(len(m.data)) {
		return
	}
	page := int64(pageSize)
	lo := (off + page - 1) / page * page
	hi := (off + n) / page * page
	if hi > lo {
		release(m.data[lo:hi])
	}
}

// WillNeed tells the OS that the file bytes [off, off+n) will be read soon,
// so that it starts reading them from disk in the background (read-ahead)
// while the caller works on earlier bytes. It does not map them or wait.
func (m *Mapping) WillNeed(off, n int64) {
	if m.closed || m.unmap == nil || off < 0 || n <= 0 || off+n > int64(len(m.data)) {
		return
	}
	lo := off / int64(pageSize) * int64(pageSize)
	willNeed(m.data[lo : off+n])
}

// Close unmaps the file. It is safe to call more than once.
func (m *Mapping) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	untrackMapping(m)
	data := m.data
	m.data = nil
	if m.unmap != nil {
		return m.unmap(data)
	}
	return nil
}
