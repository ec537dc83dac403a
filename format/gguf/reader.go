package gguf

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/mmap"
)

// Reader is an open GGUF file: its metadata, its tensor infos and the
// location of each tensor's data. It implements format.Source and
// format.Header.
type Reader struct {
	name      string        // the file, for messages
	mapping   *mmap.Mapping // nil unless opened with Open
	data      []byte        // the mapped file (nil for NewReader)
	ra        io.ReaderAt
	size      int64
	version   int
	alignment int64
	dataStart int64 // absolute offset of the data section
	md        format.Metadata
	infos     []format.TensorInfo
	offsets   []int64 // absolute offset of each tensor's data
	nbytes    []int64 // size of each tensor's data
	index     map[string]int
	closed    bool
}

// Open maps the GGUF file at path read-only and parses its header. Tensor
// data is not read: TensorData returns slices of the mapping.
func Open(path string) (*Reader, error) {
	m, err := mmap.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	data := m.Bytes()
	r, err := parse(path, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		m.Close()
		return nil, err
	}
	r.mapping, r.data = m, data
	return r, nil
}

// NewReader parses the GGUF file held by ra, of size bytes. TensorData then
// reads each tensor into a new slice. If ra has a Name method (as *os.File
// does), errors name that file.
func NewReader(ra io.ReaderAt, size int64) (*Reader, error) {
	name := "GGUF stream"
	if n, ok := ra.(interface{ Name() string }); ok {
		name = n.Name()
	}
	if size < 0 {
		return nil, fmt.Errorf("gguf: %s: negative size %d: %w", name, size, format.ErrFormat)
	}
	return parse(name, ra, size)
}

// Format returns "gguf".
func (r *Reader) Format() string { return "gguf" }

// Version returns the file's GGUF version (2 or 3).
func (r *Reader) Version() int { return r.version }

// Alignment returns the data alignment in bytes.
func (r *Reader) Alignment() int { return int(r.alignment) }

// DataOffset returns the absolute offset of the data section.
func (r *Reader) DataOffset() int64 { return r.dataStart }

// Metadata returns the key/value pairs in file order. The slice is shared:
// use Clone before changing it.
func (r *Reader) Metadata() format.Metadata { return r.md }

// Tensors lists every tensor in file order, shapes row-major. The slice is
// shared and must not be modified.
func (r *Reader) Tensors() []format.TensorInfo { return r.infos }

// TensorOffset returns the absolute file offset of the named tensor's data.
func (r *Reader) TensorOffset(name string) (int64, bool) {
	i, ok := r.index[name]
	if !ok {
		return 0, false
	}
	return r.offsets[i], true
}

// TensorData returns the raw bytes of the named tensor (without padding).
// For a Reader from Open the slice is part of the file's mapping: read-only
// and valid until Close.
func (r *Reader) TensorData(name string) ([]byte, error) {
	if r.closed {
		return nil, fmt.Errorf("gguf: %s: tensor %q: %w", r.name, name, os.ErrClosed)
	}
	i, ok := r.index[name]
	if !ok {
		return nil, fmt.Errorf("gguf: %s: tensor %q: %w", r.name, name, format.ErrNotFound)
	}
	off, n := r.offsets[i], r.nbytes[i]
	if r.data != nil {
		return r.data[off : off+n : off+n], nil
	}
	buf := make([]byte, n)
	if got, err := r.ra.ReadAt(buf, off); int64(got) < n {
		return nil, fmt.Errorf("gguf: %s: tensor %q: reading %d bytes at offset %d: %w", r.name, name, n, off, err)
	}
	return buf, nil
}

// Close releases the file's mapping. It is safe to call more than once.
func (r *Reader) Close() error {
	r.closed = true
	if r.mapping != nil {
		r.data = nil
		return r.mapping.Close()
	}
	return nil
}

var (
	_ format.Source = (*Reader)(nil)
	_ format.Header = (*Reader)(nil)
)
