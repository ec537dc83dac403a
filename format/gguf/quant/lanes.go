package quant

// Lane-parallel scale searches. The searches in search.go and iq4nl.go try
// a dozen or two candidate scales per group, and each candidate's sums are
// long chains of dependent float32 additions that ggml's order fixes. An
// assembly kernel (lanes_amd64.s) runs eight candidates at once, one per
// SIMD lane: each lane performs exactly the scalar operations, in the same
// order, so the results are the scalar ones bit for bit. Only the choice
// among the candidates, which is sequential, stays in Go.
//
// useLanes selects these kernels; it is set where the CPU can run them and
// the tests switch it off to check the pure-Go code too.

// lanes is the number of candidates a kernel evaluates at once.
const lanes = 8

// qxLanes is one make_qx_quants pass over a group, shared with
// qxLanesAVX2: inputs the candidates' numerators num, the group's signed
// max mx and the level bounds lo, hi; outputs the inverse scales num/mx and
// each candidate's sums lx, l2. Its 24 slots hold the 19 candidates, the
// last repeated.
type qxLanes struct {
	iscale [3 * lanes]float32
	lx, l2 [3 * lanes]float32
	lo, hi [lanes]int32 // -nmax, nmax-1 in every lane
	num    [3 * lanes]float32
	mx     float32
}

// kx2Lanes is one make_qkx2_quants pass over a group for the 8 candidates
// is0..is0+7, shared with kx2LanesAVX2. Outputs: each candidate's inverse
// scale, levels L[i][k], fit (scale, min, D) and error.
type kx2Lanes struct {
	L               [maxGroup][lanes]float32
	iscale          [lanes]float32
	scale, min, err [lanes]float32
	d               [lanes]float32 // ggml's D: the fit exists where D > 0
	lo, sumW, sumX  float32
	nmax            int32
	mad             uint32 // 1: weigh |error|, 0: error²
	rmin, rdelta    float32
	hi              float32
	is0             int32
}

// kx2SearchLanes is makeQKX2Quants's candidate loop on the kernel, eight
// candidates per pass, from the state after the initial fit (inverse scale
// iscale, min lo, error bestErr, scale): it stores the winner's levels in L
// and returns its scale and min. A winner that moves the min invalidates
// the rest of its pass, which restarts at the next candidate, as the
// scalar search's pairs do. The levels are recomputed once at the end from
// the winner's inverse scale and the min it was evaluated at, exactly as
// the kernel computed them.
func kx2SearchLanes(x, weights []float32, nmax int32, rmin, rdelta float32, nstep int, mad bool,
	hi, lo, sumW, sumX, iscale float32, L []uint8, bestErr, scale float32) (float32, float32) {
	c := kx2Lanes{sumW: sumW, sumX: sumX, nmax: nmax, rmin: rmin, rdelta: rdelta, hi: hi}
	if mad {
		c.mad = 1
	}
	bestIscale, bestLo := iscale, lo
	for is := 0; is <= nstep; {
		c.lo, c.is0 = lo, int32(is)
		kx2Kernel(&x[0], &weights[0], len(x), &c)
		next := is + lanes
		for k := 0; k < lanes && is+k <= nstep; k++ {
			if !(c.d[k] > 0) || !(c.err[k] < bestErr) {
				continue
			}
			bestErr, scale = c.err[k], c.scale[k]
			bestIscale, bestLo = c.iscale[k], c.lo
			moved := c.min[k] != lo
			lo = c.min[k] // even when equal: ggml keeps the sign of a zero min
			if moved {
				next = is + k + 1
				break
			}
		}
		is = next
	}
	for i, v := range x {
		L[i] = uint8(level(float32(bestIscale*(v-bestLo)), 0, nmax))
	}
	return scale, lo
}

// iq4Lanes is IQ4_NL's trial search for one block, shared with
// iq4LanesAVX2: inputs the first inverse scale id[0] and the block's
// signed max mx, from which the kernel makes the other 15,
// (itry + kvalues[0])/mx; outputs each trial's Σ(w·q)·x and Σ(w·q)·q.
type iq4Lanes struct {
	id, qx, q2 [2 * lanes]float32
	mx         float32
}
