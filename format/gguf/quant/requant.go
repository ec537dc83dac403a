package quant

// requantLevels is the requantization the K-quant quantizers end with, for
// one sub-block: L[i] = clamp(nearest_int((x[i] + dm)/d), lo, hi) + add,
// for len(x) values, a multiple of 16. dm is 0 where ggml divides x by d
// alone (x + 0 = x up to the sign of a zero, which nearest_int ignores).
// Every result must lie in [0, 255]. It runs on the AVX2 kernel where
// useLanes is set.
func requantLevels(L []uint8, x []float32, dm, d float32, lo, hi, add int32) {
	L = L[:len(x)]
	if useLanes && len(x) > 0 {
		requantKernel(&L[0], &x[0], len(x), &requantArgs{dm: dm, d: d, lo: lo, hi: hi, add: add})
		return
	}
	for i, v := range x {
		L[i] = uint8(max(lo, min(hi, nearestInt((v+dm)/d))) + add)
	}
}

// requantArgs are requantLevels's settings, shared with requantAVX2.
type requantArgs struct {
	dm, d       float32
	lo, hi, add int32
}
