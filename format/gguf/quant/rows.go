package quant

import (
	"context"
	"fmt"
	"runtime"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/parallel"
)

// minParallel is the number of values below which the row functions stay
// on the calling goroutine: starting goroutines costs more than it saves.
const minParallel = 1 << 15

// QuantizeRows is Quantize for a matrix of rows of rowLen values (src holds
// len(src)/rowLen rows), spread over all cores. rowLen must be a positive
// multiple of dt's block size, so no block straddles two rows. The bytes and errors are Quantize's; when several parts of src fail,
// the error is that of the earliest.
func QuantizeRows(dst []byte, src []float32, rowLen int, dt format.DType) error {
	c, err := quantizer(dt)
	if err != nil {
		return err
	}
	rowBytes, err := rowShape(len(src), len(dst), rowLen, dt)
	if err != nil {
		return err
	}
	return parallelRows(len(src)/rowLen, rowLen, func(r0, r1 int) error {
		return c.encode(dst[r0*rowBytes:r1*rowBytes], src[r0*rowLen:r1*rowLen], dt, r0*rowLen)
	})
}

// DequantizeRows is Dequantize for rows of rowLen values, spread over all
// cores; the result is Dequantize's.
func DequantizeRows(dst []float32, src []byte, rowLen int, dt format.DType) error {
	c, err := lookup(dt, "dequantizer")
	if err != nil {
		return err
	}
	rowBytes, err := rowShape(len(dst), len(src), rowLen, dt)
	if err != nil {
		return err
	}
	return parallelRows(len(dst)/rowLen, rowLen, func(r0, r1 int) error {
		c.dequantize(dst[r0*rowLen:r1*rowLen], src[r0*rowBytes:r1*rowBytes])
		return nil
	})
}

// rowShape checks that n values in rows of rowLen match nb bytes of dt and
// returns the bytes per row.
func rowShape(n, nb, rowLen int, dt format.DType) (int, error) {
	if rowLen <= 0 || rowLen%dt.BlockSize() != 0 {
		return 0, fmt.Errorf("quant: row length %d is not a positive multiple of the %v block size %d: %w", rowLen, dt, dt.BlockSize(), format.ErrShape)
	}
	if n%rowLen != 0 {
		return 0, fmt.Errorf("quant: %d values is not a whole number of rows of %d: %w", n, rowLen, format.ErrShape)
	}
	if err := checkLengths(n, nb, dt); err != nil {
		return 0, err
	}
	return rowLen / dt.BlockSize() * dt.BlockBytes(), nil
}

// parallelRows runs fn over contiguous row ranges [r0, r1) covering rows of
// rowLen values on all cores, each range at least minParallel values, and
// returns the error of the earliest range that failed. There are up to
// piecesPerCore ranges per core, handed out one at a time, so that a core
// slowed by other work (or rows slower to search than others) does not
// leave the rest idle at the end.
func parallelRows(rows, rowLen int, fn func(r0, r1 int) error) error {
	pieces := min(rows/max(1, minParallel/rowLen), piecesPerCore*runtime.GOMAXPROCS(0))
	if pieces <= 1 {
		return fn(0, rows)
	}
	errs := make([]error, pieces)
	parallel.ForEach(context.Background(), pieces, func(i int) {
		errs[i] = fn(rows*i/pieces, rows*(i+1)/pieces)
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// piecesPerCore is parallelRows' number of row ranges per core.
const piecesPerCore = 8
