//go:build unix

package cputime

import "testing"

// TestSecondsGrows: busy work costs CPU time, and the clock never runs
// backwards.
func TestSecondsGrows(t *testing.T) {
	t0 := Seconds()
	x := uint64(1)
	for t1 := t0; t1 <= t0; t1 = Seconds() {
		for i := 0; i < 1e6; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if t1 < t0 {
			t.Fatalf("Seconds went from %g to %g", t0, t1)
		}
	}
	sink = x
}

// sink keeps the busy loop from being optimized away.
var sink uint64
