// Package parallel splits loops over all cores: the one place lorakit
// decides how work is cut into goroutines.
//
// [Range] cuts [0, n) into one contiguous piece per core, for loops whose
// items cost about the same (rows of a matrix, blocks of a tensor);
// [RangeErr] is the same for pieces that can fail. [ForEach] hands out
// single indices one at a time, for a few items of uneven cost (one SVD per
// module), and stops early when its context is cancelled. [Dynamic] hands
// out indices from a shared counter to a given number of workers, the
// caller being one of them, and tells each call which worker runs it: the
// hot loops (matrix products, a model's rows) use it for per-worker
// buffers without a channel or an allocation per item.
//
// A panic in a worker (or, in Dynamic, in the caller's own share), including a memory fault on a mapped file (which
// workers turn into a panic with debug.SetPanicOnFault), is handed to the
// calling goroutine once every worker has stopped, so the caller's deferred
// cleanups run and its recover sees it.
package parallel

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// panics collects the first panic of a loop's workers.
type panics struct {
	mu    sync.Mutex
	value any
	set   bool
}

// run calls fn on a worker goroutine: memory faults panic instead of
// crashing, and a panic is recorded instead of ending the process.
func (p *panics) run(fn func()) {
	debug.SetPanicOnFault(true)
	p.catch(fn)
}

// catch calls fn and records its panic, if any, instead of unwinding.
func (p *panics) catch(fn func()) {
	defer p.recover()
	fn()
}

// recover, deferred, records the panic unwinding its goroutine and stops
// it there.
func (p *panics) recover() {
	if r := recover(); r != nil {
		p.mu.Lock()
		if !p.set {
			p.value, p.set = r, true
		}
		p.mu.Unlock()
	}
}

// rethrow re-raises the recorded panic in the calling goroutine.
func (p *panics) rethrow() {
	if p.set {
		panic(p.value)
	}
}

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
	var p panics
	for lo := 0; lo < n; lo += piece {
		hi := min(lo+piece, n)
		wg.Go(func() { p.run(func() { fn(lo, hi) }) })
	}
	wg.Wait()
	p.rethrow()
}

// RangeErr is [Range] for a fn that can fail. Every piece runs; the error
// returned is that of the earliest piece (lowest lo) that failed, so a fn
// that reports the first failure in its own piece gives the same error
// however the loop was cut. It returns nil if no piece failed.
func RangeErr(n, grain, step int, fn func(lo, hi int) error) error {
	var (
		mu    sync.Mutex
		first = n
		err   error
	)
	Range(n, grain, step, func(lo, hi int) {
		if e := fn(lo, hi); e != nil {
			mu.Lock()
			if lo < first {
				first, err = lo, e
			}
			mu.Unlock()
		}
	})
	return err
}

// ForEach calls fn(i) for each i in [0, n) on up to GOMAXPROCS goroutines,
// handing out one index at a time, so a few items of uneven cost still keep
// every core busy. Once ctx is done it hands out no more indices, waits for
// the calls in flight and returns ctx's error; otherwise (and for n <= 0)
// it returns nil after every call has returned.
func ForEach(ctx context.Context, n int, fn func(i int)) error {
	if n <= 0 {
		return nil
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var p panics
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			p.run(func() {
				for i := range next {
					fn(i)
				}
			})
			for range next { // after a panic, drain so the loop below ends
			}
		})
	}
	var err error
loop:
	for i := range n {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			break loop
		case next <- i:
		}
	}
	close(next)
	wg.Wait()
	p.rethrow()
	return err
}

// Dynamic calls fn(w, i) for each i in [0, count) on up to workers
// goroutines, the calling goroutine being worker 0 and the others 1 ..
// workers-1 (w identifies the goroutine, e.g. to index per-worker
// buffers). Indices are handed out in increasing order from a shared
// counter, so a worker slowed by other load on the machine takes fewer of
// them. With workers <= 1 (or count <= 1) every call runs inline, in
// order. It returns when every call has returned; a panic in any call,
// the caller's included, is re-raised on the caller after the others have
// stopped (no index is handed out after a panic). Besides the goroutines
// it starts, it allocates one small object per call.
func Dynamic(workers, count int, fn func(w, i int)) {
	workers = min(workers, count)
	if workers <= 1 {
		for i := range count {
			fn(0, i)
		}
		return
	}
	d := &dynamic{count: int64(count), fn: fn}
	d.wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go d.worker(w)
	}
	d.share(0)
	d.wg.Wait()
	d.p.rethrow()
}

// dynamic is the state of one Dynamic loop, shared by its workers.
type dynamic struct {
	next  atomic.Int64
	count int64
	fn    func(w, i int)
	p     panics
	wg    sync.WaitGroup
}

// worker runs worker w's share on its own goroutine, memory faults
// panicking instead of crashing.
func (d *dynamic) worker(w int) {
	defer d.wg.Done()
	debug.SetPanicOnFault(true)
	d.share(w)
}

// share calls fn on indices from the counter until none is left. A panic
// is recorded, and the counter exhausted so that the other workers stop
// at their next index (after a normal end it is spent already).
func (d *dynamic) share(w int) {
	defer d.next.Store(d.count)
	defer d.p.recover()
	for {
		i := d.next.Add(1) - 1
		if i >= d.count {
			return
		}
		d.fn(w, int(i))
	}
}
