package model

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// TestParallelForCovers: every item of [0, n) is in exactly one piece,
// for loops run inline (little work) and on several goroutines.
func TestParallelForCovers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, c := range []struct{ n, cost int }{{0, 1}, {1, 1 << 20}, {10, 1}, {1000, minParallelWork}, {4097, 1 << 10}} {
		hits := make([]int32, c.n)
		parallelFor(c.n, c.cost, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
		})
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("parallelFor(%d, %d): item %d covered %d times", c.n, c.cost, i, h)
			}
		}
	}
}

// TestParallelForPanicReachesCaller: a panic in a piece run by another
// goroutine is raised again on the caller (where lorakit's command runner
// turns it into a one-line report) instead of ending the process.
func TestParallelForPanicReachesCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const n = 1 << 12
	got := func() (r any) {
		defer func() { r = recover() }()
		parallelFor(n, minParallelWork, func(lo, hi int) {
			if hi == n { // the last piece, whichever goroutine takes it
				panic("boom")
			}
		})
		return nil
	}()
	if got != "boom" {
		t.Errorf("recovered %v from parallelFor, want the piece's panic", got)
	}
}
