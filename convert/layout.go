package convert

import (
	"fmt"
	"unsafe"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/transpose"
)

// transpose2D returns the (cols × rows) transpose of a row-major (rows ×
// cols) matrix of elemSize-byte elements, in cache-friendly tiles, with
// column bands on all cores.
func transpose2D(data []byte, rows, cols, elemSize int) []byte {
	out := make([]byte, len(data))
	switch elemSize {
	case 1:
		transpose.Into(out, data, rows, cols)
	case 2:
		transpose.Into(elems[[2]byte](out), elems[[2]byte](data), rows, cols)
	case 4:
		transpose.Into(elems[[4]byte](out), elems[[4]byte](data), rows, cols)
	case 8:
		transpose.Into(elems[[8]byte](out), elems[[8]byte](data), rows, cols)
	default:
		for r := range rows {
			for c := range cols {
				copy(out[(c*rows+r)*elemSize:(c*rows+r+1)*elemSize], data[(r*cols+c)*elemSize:])
			}
		}
	}
	return out
}

// elems views b as whole E-sized elements. E is a byte array, whose
// alignment is 1, so b may start anywhere (an mmap'd tensor need not be
// aligned to its element size).
func elems[E [2]byte | [4]byte | [8]byte](b []byte) []E {
	var e E
	n := len(b) / int(unsafe.Sizeof(e))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*E)(unsafe.Pointer(&b[0])), n)
}

// ropeRows reorders the rows of a q or k projection between Hugging Face's
// rotary layout, where each head's rotated pairs are (i, i+D/2), and
// llama.cpp's, where they are adjacent (2i, 2i+1). Within each of heads
// heads of D rows, GGUF row 2i+j is HF row j*D/2+i (j in {0,1}): the
// reshape(heads, 2, D/2).swapaxes(1, 2) of llama.cpp's converter. toGGUF
// selects the direction. rowBytes is the byte size of one row (a whole row
// of any dtype, quantized included, moves as a unit).
func ropeRows(data []byte, rows, rowBytes, heads int, toGGUF bool) ([]byte, error) {
	if heads <= 0 || rows%heads != 0 || (rows/heads)%2 != 0 {
		return nil, fmt.Errorf("%d rows do not split into %d heads of an even size: %w", rows, heads, format.ErrShape)
	}
	d := rows / heads
	out := make([]byte, len(data))
	for h := range heads {
		for i := range d / 2 {
			for j := range 2 {
				ggufRow := h*d + 2*i + j
				hfRow := h*d + j*d/2 + i
				dst, src := ggufRow, hfRow
				if !toGGUF {
					dst, src = hfRow, ggufRow
				}
				copy(out[dst*rowBytes:(dst+1)*rowBytes], data[src*rowBytes:])
			}
		}
	}
	return out, nil
}
