package analyze

import (
	"context"
	"runtime"
	"sync"
)

// forEach calls fn(i) for i in [0, n) on up to GOMAXPROCS goroutines and
// stops handing out work once ctx is done, returning ctx's error then.
func forEach(ctx context.Context, n int, fn func(i int)) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
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
	return err
}
