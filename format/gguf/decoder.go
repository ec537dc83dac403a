package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/lorakit/lorakit/format"
)

// windowSize is how much of the header the decoder reads at a time.
const windowSize = 64 << 10

// errTruncated is returned by the decoder when a read runs past the end of
// the file; callers add what they were reading.
var errTruncated = fmt.Errorf("unexpected end of file: %w", format.ErrFormat)

// decoder reads little-endian GGUF primitives from an io.ReaderAt through a
// small window, so that parsing a header costs a few large reads however
// many values it holds, and never reads past size.
type decoder struct {
	r      io.ReaderAt
	size   int64  // bytes in the file
	pos    int64  // absolute offset of the next byte
	win    []byte // window contents
	winOff int64  // absolute offset of win[0]
	nested int64  // arrays read inside arrays so far (maxNestedArrays)
}

func newDecoder(r io.ReaderAt, size int64) *decoder {
	return &decoder{r: r, size: size}
}

// remaining is the number of bytes between pos and the end of the file.
func (d *decoder) remaining() int64 { return d.size - d.pos }

// next returns the next n bytes (n <= windowSize) and advances past them.
// The slice is valid until the next call.
func (d *decoder) next(n int) ([]byte, error) {
	if int64(n) > d.remaining() {
		return nil, errTruncated
	}
	start := d.pos - d.winOff
	if start < 0 || start+int64(n) > int64(len(d.win)) {
		if err := d.fill(n); err != nil {
			return nil, err
		}
		start = 0
	}
	d.pos += int64(n)
	return d.win[start : start+int64(n)], nil
}

// fill loads the window at pos with at least n bytes.
func (d *decoder) fill(n int) error {
	want := min(int64(windowSize), d.remaining())
	if cap(d.win) < int(want) {
		d.win = make([]byte, want)
	}
	d.win = d.win[:want]
	got, err := d.r.ReadAt(d.win, d.pos)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return errTruncated
		}
		return err
	}
	d.win = d.win[:got]
	d.winOff = d.pos
	return nil
}

// bytes returns the next n bytes (n <= remaining, checked) in a new slice.
func (d *decoder) bytes(n int64) ([]byte, error) {
	if n > d.remaining() {
		return nil, errTruncated
	}
	if n <= windowSize {
		b, err := d.next(int(n))
		if err != nil {
			return nil, err
		}
		return append([]byte(nil), b...), nil
	}
	out := make([]byte, n) // n is within the file: bounded by its size
	if got, err := d.r.ReadAt(out, d.pos); int64(got) < n {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, errTruncated
		}
		return nil, err
	}
	d.pos += n
	return out, nil
}

func (d *decoder) u32() (uint32, error) {
	b, err := d.next(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64() (uint64, error) {
	b, err := d.next(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// count reads a u64 count of items that take at least minSize bytes each
// and checks that that many fit in the rest of the file, so that nothing is
// ever allocated for items the file cannot hold.
func (d *decoder) count(minSize int64) (int64, error) {
	n, err := d.u64()
	if err != nil {
		return 0, err
	}
	if minSize < 1 {
		minSize = 1
	}
	if n > uint64(d.remaining()/minSize) {
		return 0, fmt.Errorf("count %d needs at least %d bytes each but only %d bytes are left: %w",
			n, minSize, d.remaining(), format.ErrFormat)
	}
	return int64(n), nil
}

// str reads a GGUF string: a u64 length and that many bytes.
func (d *decoder) str() (string, error) {
	n, err := d.u64()
	if err != nil {
		return "", err
	}
	if n > uint64(d.remaining()) {
		return "", fmt.Errorf("string length %d exceeds the %d bytes left: %w", n, d.remaining(), format.ErrFormat)
	}
	if n <= windowSize {
		b, err := d.next(int(n))
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	b, err := d.bytes(int64(n))
	return string(b), err
}
