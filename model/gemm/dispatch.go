package gemm

import (
	"maps"
	"sync"
	"time"
)

// Which micro-kernel Sgemm uses is decided by measurement, not by CPU
// flags alone: a CPU may offer AVX-512 and still run a 512-bit FMA at half
// the rate of a 256-bit one (AMD Zen 4), or slow its clock for it. On first
// use each assembly kernel this CPU supports runs alone on L1-resident
// panels for a few short, interleaved trials; the best trial of each gives
// its rate, and the fastest kernel wins, a wider-tiled one (listed first)
// keeping ties.

// probeFlops is the work of one timed trial (about 40 µs of one core).
const probeFlops = 1 << 22

// probeRounds is how many interleaved trials each kernel gets; the best one
// counts, so a trial that lost the core to another process is ignored.
const probeRounds = 9

// probeK is the depth of the probe's panels: both fit in L1 for every kernel.
const probeK = 256

// tieMargin: a kernel later in the list must beat an earlier one by more
// than this factor to be chosen. Probe trials of tens of microseconds vary
// by a few percent; within that, the wider tile wins because it needs
// fewer loads and C updates per flop in the blocked driver.
const tieMargin = 1.05

var (
	chooseOnce sync.Once
	active     *kernel
	probeRates map[string]float64 // GFLOP/s of each probed kernel
)

// activeKernel returns the kernel Sgemm uses, measuring on first call.
func activeKernel() *kernel {
	chooseOnce.Do(func() {
		arch := kernels[:len(kernels)-1] // the portable kernel is never faster
		probeRates = map[string]float64{}
		if len(arch) < 2 {
			active = kernels[0]
			return
		}
		rates := probeKernels(arch)
		for i, k := range arch {
			probeRates[k.name] = rates[i]
		}
		active = arch[fastest(rates)]
	})
	return active
}

// fastest returns the index of the highest rate, an earlier index keeping
// its place unless a later one is more than tieMargin times faster.
func fastest(rates []float64) int {
	best := 0
	for i, r := range rates[1:] {
		if r > rates[best]*tieMargin {
			best = i + 1
		}
	}
	return best
}

// probeKernels returns each kernel's rate in GFLOP/s on one core: the best
// of probeRounds interleaved trials of about probeFlops each (the first
// round warms up the vector units and is not counted).
func probeKernels(ks []*kernel) []float64 {
	type panels struct{ a, b, c []float32 }
	ps := make([]panels, len(ks))
	for i, k := range ks {
		ps[i] = panels{make([]float32, k.mr*probeK), make([]float32, k.nr*probeK), make([]float32, k.mr*k.nr)}
		for j := range ps[i].a {
			ps[i].a[j] = float32(j%7) * 0.25
		}
		for j := range ps[i].b {
			ps[i].b[j] = float32(j%5) * 0.5
		}
	}
	rates := make([]float64, len(ks))
	for round := 0; round <= probeRounds; round++ {
		for i, k := range ks {
			flopsPerCall := 2 * k.mr * k.nr * probeK
			calls := max(1, probeFlops/flopsPerCall)
			p := ps[i]
			t0 := time.Now()
			for range calls {
				k.fn(probeK, &p.a[0], 1, k.mr, &p.b[0], k.nr, &p.c[0], k.nr, 1, 1, k.mr, k.nr)
			}
			el := time.Since(t0)
			if round == 0 || el <= 0 {
				continue
			}
			rates[i] = max(rates[i], float64(calls*flopsPerCall)/float64(el.Nanoseconds()))
		}
	}
	return rates
}

// KernelName reports which micro-kernel Sgemm uses on this CPU: "avx512",
// "avx2" or "go".
func KernelName() string { return activeKernel().name }

// KernelRates reports the rate (GFLOP/s on one core) each assembly kernel
// reached when Sgemm chose among them, or an empty map when the CPU offers
// at most one.
func KernelRates() map[string]float64 {
	activeKernel()
	return maps.Clone(probeRates)
}
