// Package parallel splits loops over all cores: the one place lorakit
// decides how work is cut into goroutines.
package parallel

import (
	"runtime"
	"sync"
)

// Range calls fn(lo, hi) over contiguous pieces covering [0, n), one piece
// per worker, on up to GOMAXPROCS goroutines. Pieces are never smaller than
// grain items (so small loops run inline, without goroutines), and are
// multiples of step when step > 1 (e.g. quantization blocks). It returns
// when every piece is done.
func Range(n, grain, step int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	step = max(step, 1)
	workers := min(runtime.GOMAXPROCS(0), max(1, n/max(grain, 1)))
	if workers <= 1 {
		fn(0, n)
		return
	}
	piece := (n + workers - 1) / workers
	piece = (piece + step - 1) / step * step
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += piece {
		hi := min(lo+piece, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
