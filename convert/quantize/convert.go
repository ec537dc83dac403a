package quantize

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf/quant"
	"github.com/lorakit/lorakit/internal/parallel"
)

// chunkValues is how many values one row block holds (4 MiB of float32):
// large enough to keep every core busy, small enough that the scratch
// buffers and the input pages in flight stay small.
const chunkValues = 1 << 20

// converter re-encodes tensors row block by row block. Its buffers are
// reused from one tensor to the next: out grows to the largest output
// tensor, scratch to one row block.
type converter struct {
	out     []byte
	scratch []float32
}

// convert returns the data of t (whose input bytes are data) encoded as
// t.Out. release, if not nil, is called on each part of data once it has
// been read. The result is valid until the next call.
func (c *converter) convert(ctx context.Context, t Tensor, data []byte, release func([]byte)) ([]byte, error) {
	if cap(c.out) < int(t.OutBytes) {
		c.out = make([]byte, t.OutBytes)
	}
	out := c.out[:t.OutBytes]
	rows64, cols64 := t.In.Rows()
	rows, cols := int(rows64), int(cols64)
	if rows == 0 || cols == 0 {
		return out, nil
	}
	inRow, err := t.In.DType.RowBytes(cols64)
	if err != nil {
		return nil, err
	}
	outRow, err := t.Out.RowBytes(cols64)
	if err != nil {
		return nil, err
	}
	// Rows of one expert share its slice of the importance data, so a row
	// block never spans two experts.
	perExpert := rows
	if t.Importance != nil && len(t.In.Shape) >= 3 {
		perExpert = int(t.In.Shape[len(t.In.Shape)-2])
	}
	step := max(1, chunkValues/cols)
	for r0 := 0; r0 < rows; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r1 := min(rows, r0+step, (r0/perExpert+1)*perExpert)
		var imp []float32
		if t.Importance != nil {
			e := r0 / perExpert
			imp = t.Importance[e*cols : (e+1)*cols]
		}
		in := data[int64(r0)*inRow : int64(r1)*inRow]
		x, err := c.decode(in, t.In.DType, cols, (r1-r0)*cols)
		if err == nil {
			err = encode(out[int64(r0)*outRow:int64(r1)*outRow], x, cols, t.Out, imp)
		}
		if err != nil {
			return nil, fmt.Errorf("rows %d..%d: %w", r0, r1-1, err)
		}
		if release != nil {
			release(in)
		}
		r0 = r1
	}
	return out, nil
}

// decode returns the n values of src (rows of cols values of type dt) as
// float32: a view of src itself when it holds aligned little-endian F32,
// else decoded into the scratch buffer on all cores.
func (c *converter) decode(src []byte, dt format.DType, cols, n int) ([]float32, error) {
	if dt == format.F32 && littleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(src)))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(src))), n), nil
	}
	if cap(c.scratch) < n {
		c.scratch = make([]float32, n)
	}
	x := c.scratch[:n]
	if dt.IsBlock() {
		return x, quant.DequantizeRows(x, src, cols, dt)
	}
	size := dt.BlockBytes()
	return x, parallelRows(n/cols, cols, func(r0, r1 int) error {
		return format.ToFloat32(x[r0*cols:r1*cols], src[r0*cols*size:r1*cols*size], dt)
	})
}

// encode writes the rows of cols values of x to dst as type dt, on all
// cores, weighting the quantizer with the per-column importance imp when
// it is not nil.
func encode(dst []byte, x []float32, cols int, dt format.DType, imp []float32) error {
	if dt.IsBlock() {
		return quant.QuantizeRowsWeighted(dst, x, cols, dt, imp)
	}
	size := dt.BlockBytes()
	return parallelRows(len(x)/cols, cols, func(r0, r1 int) error {
		return format.FromFloat32(dst[r0*cols*size:r1*cols*size], x[r0*cols:r1*cols], dt)
	})
}

// littleEndian reports whether this machine stores numbers as GGUF and
// safetensors do, so that F32 data can be used in place.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// minParallel is the number of values below which work stays on the
// calling goroutine.
const minParallel = 1 << 15

// parallelRows runs fn over contiguous row ranges [r0, r1) covering rows of
// cols values on all cores, each range at least minParallel values, and
// returns the error of the earliest range that failed.
func parallelRows(rows, cols int, fn func(r0, r1 int) error) error {
	return parallel.RangeErr(rows, max(1, minParallel/cols), 1, fn)
}
