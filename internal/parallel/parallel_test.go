package parallel

import (
	"sync/atomic"
	"testing"
)

func TestRangeCoversOnce(t *testing.T) {
	for _, c := range []struct{ n, grain, step int }{{0, 1, 1}, {1, 1, 1}, {10, 1, 1}, {1000, 7, 32}, {1 << 16, 1024, 256}, {5, 100, 1}} {
		hits := make([]int32, c.n)
		Range(c.n, c.grain, c.step, func(lo, hi int) {
			if lo%c.step != 0 && c.step > 1 {
				t.Errorf("Range(%d,%d,%d): piece starts at %d, not a multiple of the step", c.n, c.grain, c.step, lo)
			}
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
		})
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("Range(%d,%d,%d): item %d visited %d times", c.n, c.grain, c.step, i, h)
			}
		}
	}
}
