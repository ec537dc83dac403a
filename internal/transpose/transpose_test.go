package transpose

import "testing"

func TestTranspose(t *testing.T) {
	for _, c := range []struct{ rows, cols int }{{1, 1}, {1, 5}, {5, 1}, {3, 4}, {33, 65}, {100, 700}} {
		src := make([]int, c.rows*c.cols)
		for i := range src {
			src[i] = i
		}
		got := Of(src, c.rows, c.cols)
		for r := range c.rows {
			for k := range c.cols {
				if got[k*c.rows+r] != src[r*c.cols+k] {
					t.Fatalf("%dx%d: out[%d][%d] = %d, want %d", c.rows, c.cols, k, r, got[k*c.rows+r], src[r*c.cols+k])
				}
			}
		}
		if back := Of(got, c.cols, c.rows); !equal(back, src) {
			t.Errorf("%dx%d: transposing twice does not give the matrix back", c.rows, c.cols)
		}
	}
}

func equal(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
