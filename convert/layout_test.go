package convert

import (
	"bytes"
	"fmt"
	"testing"
)

// TestTranspose2D checks every element size against the index definition
// out[c][r] = in[r][c], on data that starts one byte past an aligned
// address (an mmap'd tensor need not be aligned to its element size).
func TestTranspose2D(t *testing.T) {
	const rows, cols = 37, 70 // more than one tile each way, not multiples
	for _, size := range []int{1, 2, 3, 4, 8} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			buf := make([]byte, 1+rows*cols*size)
			for i := range buf {
				buf[i] = byte(i*7 + i/251)
			}
			in := buf[1:]
			want := make([]byte, len(in))
			for r := range rows {
				for c := range cols {
					copy(want[(c*rows+r)*size:][:size], in[(r*cols+c)*size:])
				}
			}
			if got := transpose2D(in, rows, cols, size); !bytes.Equal(got, want) {
				t.Errorf("transpose2D(%d×%d, elem %d) differs from the index definition", rows, cols, size)
			}
		})
	}
}
