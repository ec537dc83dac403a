// Package transpose transposes row-major matrices: the one implementation
// lorakit uses wherever a layout differs between formats (GPT-2's Conv1D,
// mlx-lm's adapter matrices, llama.cpp's embedding LoRA).
package transpose

import "github.com/lorakit/lorakit/internal/parallel"

// tile is the edge of the square blocks the transpose works in, so both
// sides stay cache-friendly.
const tile = 32

// Into writes the transpose of src (rows × cols, row-major) into dst
// (cols × rows), splitting column bands over all cores for large matrices.
func Into[T any](dst, src []T, rows, cols int) {
	if len(src) < rows*cols || len(dst) < rows*cols {
		panic("transpose: slices shorter than rows*cols")
	}
	parallel.Range(cols, max(tile, (1<<16)/max(rows, 1)), tile, func(c0, c1 int) {
		for r0 := 0; r0 < rows; r0 += tile {
			for c := c0; c < c1; c++ {
				d := dst[c*rows:]
				for r := r0; r < min(r0+tile, rows); r++ {
					d[r] = src[r*cols+c]
				}
			}
		}
	})
}

// Of returns the (cols × rows) transpose of src (rows × cols).
func Of[T any](src []T, rows, cols int) []T {
	dst := make([]T, len(src))
	Into(dst, src, rows, cols)
	return dst
}
