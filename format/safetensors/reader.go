package safetensors

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/mmap"
)

// Reader reads a safetensors file. It implements format.Source and
// format.Header. A Reader from Open hands out slices of the memory-mapped
// file (zero copy); one from NewReader reads each tensor on demand. Its
// methods may be called from several goroutines at once (Close excepted).
type Reader struct {
	name      string        // file name for errors ("" if unknown)
	ra        io.ReaderAt   // the file
	mapping   *mmap.Mapping // non-nil when memory-mapped (Open)
	data      []byte        // the whole mapped file, or nil
	dataStart int64         // file offset of the data section (8 + header length)
	entries   []entry       // in data offset order
	index     map[string]int
	md        format.Metadata
	closed    bool
}

// Open memory-maps the safetensors file at path and validates its header.
// Nothing but the header is read until tensors are used.
func Open(path string) (*Reader, error) {
	m, err := mmap.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	data := m.Bytes()
	r, err := newReader(path, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		m.Close()
		return nil, err
	}
	r.mapping, r.data = m, data
	return r, nil
}

// NewReader reads a safetensors file of size bytes from r. It reads and
// validates the header now and each tensor's bytes when TensorData asks for
// them. If r has a Name method (an *os.File), errors name that file.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	name := ""
	if n, ok := r.(interface{ Name() string }); ok {
		name = n.Name()
	}
	return newReader(name, r, size)
}

func newReader(name string, ra io.ReaderAt, size int64) (*Reader, error) {
	r := &Reader{name: name, ra: ra}
	var prefix [8]byte
	if size >= 8 {
		if err := readFull(ra, prefix[:], 0); err != nil {
			return nil, r.errorf("reading the header length: %w", err)
		}
	}
	n, err := headerLength(prefix[:], size)
	if err != nil {
		return nil, r.errorf("%w", err)
	}
	buf := make([]byte, n) // n <= MaxHeaderBytes and within the file
	if err := readFull(ra, buf, 8); err != nil {
		return nil, r.errorf("reading the header: %w", err)
	}
	r.dataStart = 8 + n
	h, err := parseHeader(buf, size-r.dataStart)
	if err != nil {
		return nil, r.errorf("%w", err)
	}
	r.entries, r.md = h.entries, h.md
	r.index = make(map[string]int, len(h.entries))
	for i, e := range h.entries {
		r.index[e.info.Name] = i
	}
	return r, nil
}

// readFull reads len(p) bytes at off; a short read is ErrFormat.
func readFull(ra io.ReaderAt, p []byte, off int64) error {
	n, err := ra.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		return fmt.Errorf("file ends after %d of %d bytes at offset %d: %w", n, len(p), off, format.ErrFormat)
	}
	return err
}

// errorf formats an error as "safetensors: FILE: ...".
func (r *Reader) errorf(f string, args ...any) error {
	if r.name == "" {
		return fmt.Errorf("safetensors: "+f, args...)
	}
	return fmt.Errorf("safetensors: %s: "+f, append([]any{r.name}, args...)...)
}

// Format returns "safetensors".
func (r *Reader) Format() string { return "safetensors" }

// Tensors lists the tensors in file (data offset) order. The slice is the
// caller's; the Shapes are shared and must not be modified.
func (r *Reader) Tensors() []format.TensorInfo {
	out := make([]format.TensorInfo, len(r.entries))
	for i, e := range r.entries {
		out[i] = e.info
	}
	return out
}

// Metadata returns the __metadata__ entries (all string values) in file
// order; nil when the file has none (or null), empty when it is {}.
func (r *Reader) Metadata() format.Metadata {
	if r.md == nil {
		return nil
	}
	return slices.Clone(r.md)
}

// TensorData returns the named tensor's raw bytes: a slice of the mapped
// file from Open (valid until Close, not to be modified), a fresh buffer
// from NewReader.
func (r *Reader) TensorData(name string) ([]byte, error) {
	i, ok := r.index[name]
	if !ok {
		return nil, r.errorf("tensor %q: %w", name, format.ErrNotFound)
	}
	if r.closed {
		return nil, r.errorf("tensor %q: %w", name, os.ErrClosed)
	}
	e := r.entries[i]
	lo, hi := r.dataStart+e.begin, r.dataStart+e.end
	if r.data != nil {
		return r.data[lo:hi:hi], nil
	}
	buf := make([]byte, hi-lo) // validated to lie within the file
	if err := readFull(r.ra, buf, lo); err != nil {
		return nil, r.errorf("tensor %q: %w", name, err)
	}
	return buf, nil
}

// Close releases the mapping. Slices from TensorData become invalid.
func (r *Reader) Close() error {
	r.closed = true
	r.data = nil
	if r.mapping != nil {
		return r.mapping.Close()
	}
	return nil
}

// Version returns 0: safetensors has no version field.
func (r *Reader) Version() int { return 0 }

// Alignment returns 8: the reference writer pads the header so that the
// data section starts at a multiple of 8 bytes.
func (r *Reader) Alignment() int { return 8 }

// TensorOffset returns the absolute file offset of the tensor's first byte.
func (r *Reader) TensorOffset(name string) (int64, bool) {
	i, ok := r.index[name]
	if !ok {
		return 0, false
	}
	return r.dataStart + r.entries[i].begin, true
}

// DataOffset returns the file offset at which the data section starts
// (8 + the header length, padding included).
func (r *Reader) DataOffset() int64 { return r.dataStart }

var (
	_ format.Source = (*Reader)(nil)
	_ format.Header = (*Reader)(nil)
)
