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
	case 4:
		transpose.Into(asU32(out), asU32(data), rows, cols)
	case 2:
		transpose.Into(asU16(out), asU16(data), rows, cols)
	default:
		for r := range rows {
			for c := range cols {
				copy(out[(c*rows+r)*elemSize:(c*rows+r+1)*elemSize], data[(r*cols+c)*elemSize:])
			}
		}
	}
	return out
}

func asU32(b []byte) []uint32 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b)/4)
}

func asU16(b []byte) []uint16 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
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
