package mmap

import (
	"bytes"
	"io"
	"unsafe"
)

// writeChunk is how much of a copied-through tensor is written between
// releases of its input pages (a variable so that tests can shrink it).
var writeChunk = 32 << 20

// WriteReleasing writes data to w. Where data lies in a live mapping of an
// input file (a tensor copied through unchanged, zero-copy), it is written
// in chunks and each chunk's pages leave the resident set once written:
// writing pulls them into this process's memory, so without this a 1 GB
// embedding copied from a mapped checkpoint would cost 1 GB of RSS. The
// slice stays valid (pages are re-read from the page cache if touched).
// Container writers call it for tensor data.
func WriteReleasing(w io.Writer, data []byte) (int, error) {
	m, base := mappingOf(data)
	if m == nil || len(data) <= writeChunk {
		n, err := w.Write(data)
		if m != nil && err == nil {
			m.Release(base, int64(n))
		}
		return n, err
	}
	n := 0
	for n < len(data) {
		k, err := w.Write(data[n:min(len(data), n+writeChunk)])
		m.Release(base+int64(n), int64(k))
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ReleaseMapped lets the whole pages of b leave the resident set when b
// lies in a live mapping of an input file, and does nothing otherwise. A
// kernel that reads a large mapped tensor chunk by chunk calls it after
// each chunk, so the tensor costs a chunk of RSS rather than its size.
func ReleaseMapped(b []byte) {
	if m, off := mappingOf(b); m != nil {
		m.Release(off, int64(len(b)))
	}
}

// EqualReleasing reports whether a and b hold the same bytes, comparing
// them a chunk at a time and letting the pages of each chunk that lies in
// a mapped input leave the resident set: comparing two 1 GB mapped
// tensors then costs a chunk of RSS, not 2 GB.
func EqualReleasing(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for lo := 0; lo < len(a); lo += writeChunk {
		hi := min(len(a), lo+writeChunk)
		eq := bytes.Equal(a[lo:hi], b[lo:hi])
		ReleaseMapped(a[lo:hi])
		ReleaseMapped(b[lo:hi])
		if !eq {
			return false
		}
	}
	return true
}

// mappingOf returns the live mapping that holds all of b and b's offset in
// it, or nil.
func mappingOf(b []byte) (*Mapping, int64) {
	if len(b) == 0 {
		return nil, 0
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	mappedMu.Lock()
	defer mappedMu.Unlock()
	for m := range mapped {
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
		if p >= lo && p+uintptr(len(b)) <= lo+uintptr(len(m.data)) {
			return m, int64(p - lo)
		}
	}
	return nil, 0
}
