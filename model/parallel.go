package model

import (
	"runtime"

	"github.com/lorakit/lorakit/internal/parallel"
)

// minParallelWork is the rough work (floating-point operations) below which
// a loop runs inline on the calling goroutine: about 20 µs of one core,
// where starting goroutines stops paying for itself (token-by-token
// decoding of a small model lives below it).
const minParallelWork = 1 << 16

// piecesPerWorker is how many pieces each worker's share is cut into: the
// pieces are handed out from a shared counter, so a core slowed by other
// load on a shared machine takes fewer of them instead of holding up the
// rest.
const piecesPerWorker = 4

// parallelFor runs fn over contiguous pieces covering [0, n), on up to
// GOMAXPROCS goroutines (the caller being one, through parallel.Dynamic,
// which hands a panic in any piece to the caller), and returns when all
// are done. cost is the rough work of one item, in floating-point operations;
// a loop whose whole work is below minParallelWork runs inline.
func parallelFor(n, cost int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	work := int64(n) * int64(max(cost, 1))
	workers := int(min(int64(runtime.GOMAXPROCS(0)), int64(n), work/minParallelWork))
	if workers <= 1 {
		fn(0, n)
		return
	}
	piece := max(1, n/(workers*piecesPerWorker), int(minParallelWork/4/max(int64(cost), 1)))
	parallel.Dynamic(workers, (n+piece-1)/piece, func(_, i int) {
		lo := i * piece
		fn(lo, min(lo+piece, n))
	})
}
