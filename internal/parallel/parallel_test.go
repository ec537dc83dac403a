package parallel

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
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

func TestRangeErrEarliest(t *testing.T) {
	for _, c := range []struct {
		name string
		n    int
		bad  []int // items whose piece fails, naming the first bad item in it
		want int   // the item the returned error names; -1 for nil
	}{
		{"none", 1000, nil, -1},
		{"one", 1000, []int{700}, 700},
		{"several", 1000, []int{999, 3, 500}, 3},
		{"inline", 10, []int{9, 4}, 4},
		{"empty", 0, nil, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := make(map[int]bool)
			for _, i := range c.bad {
				bad[i] = true
			}
			var visited atomic.Int64
			err := RangeErr(c.n, 1, 1, func(lo, hi int) error {
				visited.Add(int64(hi - lo))
				for i := lo; i < hi; i++ {
					if bad[i] {
						return fmt.Errorf("item %d", i)
					}
				}
				return nil
			})
			want := ""
			if c.want >= 0 {
				want = fmt.Sprintf("item %d", c.want)
			}
			if got := fmt.Sprint(err); (err == nil) != (c.want < 0) || (err != nil && got != want) {
				t.Errorf("RangeErr(%d) = %v, want %q", c.n, err, want)
			}
			if c.want < 0 && visited.Load() != int64(c.n) {
				t.Errorf("RangeErr(%d) visited %d items, want %d", c.n, visited.Load(), c.n)
			}
		})
	}
}

func TestForEach(t *testing.T) {
	for _, n := range []int{0, 1, 3, 100} {
		hits := make([]int32, n)
		if err := ForEach(context.Background(), n, func(i int) { atomic.AddInt32(&hits[i], 1) }); err != nil {
			t.Fatalf("ForEach(%d) = %v, want nil", n, err)
		}
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("ForEach(%d): item %d visited %d times", n, i, h)
			}
		}
	}
}

func TestForEachCancel(t *testing.T) {
	const n = 1000
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	err := ForEach(ctx, n, func(i int) {
		if calls.Add(1) == 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ForEach(cancelled) = %v, want context.Canceled", err)
	}
	// After cancel at most one index per worker can already be on its way.
	if c := calls.Load(); c >= n {
		t.Errorf("ForEach(cancelled) made %d calls, want fewer than %d", c, n)
	}
}

// TestWorkerPanicReachesCaller: a worker's panic is raised again in the
// calling goroutine (where it can be recovered), not in the worker, where
// it would end the process.
func TestWorkerPanicReachesCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, c := range []struct {
		name string
		loop func()
	}{
		{"Range", func() {
			Range(100, 1, 1, func(lo, hi int) {
				if lo > 0 {
					panic("boom")
				}
			})
		}},
		{"ForEach", func() {
			ForEach(context.Background(), 100, func(i int) {
				if i == 7 {
					panic("boom")
				}
			})
		}},
		{"Dynamic in a worker", func() {
			// The caller waits in its first call until another worker
			// has taken an index, so the panic is surely not its own.
			other := make(chan struct{})
			var once sync.Once
			Dynamic(4, 100, func(w, i int) {
				if w == 0 {
					<-other
					return
				}
				once.Do(func() { close(other) })
				panic("boom")
			})
		}},
		{"Dynamic in the caller", func() {
			Dynamic(4, 100, func(w, i int) {
				if w == 0 {
					panic("boom")
				}
			})
		}},
		{"Dynamic inline", func() {
			Dynamic(1, 100, func(w, i int) {
				if i == 50 {
					panic("boom")
				}
			})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := func() (r any) {
				defer func() { r = recover() }()
				c.loop()
				return nil
			}()
			if got != "boom" {
				t.Errorf("recovered %v in the caller, want the worker's panic", got)
			}
		})
	}
}

// TestDynamic: every index is handed out exactly once, worker numbers stay
// in [0, workers), and one worker (or none but the caller) runs inline in
// order.
func TestDynamic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, c := range []struct{ workers, count int }{{0, 5}, {1, 10}, {4, 0}, {4, 1}, {4, 3}, {3, 1000}, {16, 257}} {
		hits := make([]int32, c.count)
		var order []int
		var bad atomic.Int32
		Dynamic(c.workers, c.count, func(w, i int) {
			if w < 0 || w >= max(c.workers, 1) {
				bad.Add(1)
			}
			atomic.AddInt32(&hits[i], 1)
			if c.workers <= 1 {
				order = append(order, i)
			}
		})
		for i, h := range hits {
			if h != 1 {
				t.Errorf("Dynamic(%d, %d): index %d handed out %d times", c.workers, c.count, i, h)
			}
		}
		if bad.Load() != 0 {
			t.Errorf("Dynamic(%d, %d): %d calls with a worker number outside [0, %d)", c.workers, c.count, bad.Load(), c.workers)
		}
		for i, v := range order {
			if v != i {
				t.Errorf("Dynamic(%d, %d) inline: call %d got index %d", c.workers, c.count, i, v)
				break
			}
		}
	}
}

// TestDynamicStopsAfterPanic: after a panic no further index is handed
// out, so a failing loop does not run to the end first.
func TestDynamicStopsAfterPanic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var calls atomic.Int64
	const n = 1 << 20
	func() {
		defer func() { recover() }()
		Dynamic(4, n, func(w, i int) {
			calls.Add(1)
			if i == 10 {
				panic("boom")
			}
		})
	}()
	if c := calls.Load(); c >= n {
		t.Errorf("Dynamic made %d calls after a panic at index 10, want fewer than %d", c, n)
	}
}
