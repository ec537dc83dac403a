package quant

// Lane-parallel scale searches. The searches in search.go and iq4nl.go try
// a dozen or two candidate scales per group, and each candidate's sums are
// long chains of dependent float32 additions that ggml's order fixes.
// Assembly kernels (lanes_amd64.s) run them in SIMD lanes, each lane
// performing exactly the scalar operations, in the same order, so the
// results are the scalar ones bit for bit. Two layouts:
//
//   - one group, a lane per candidate (qxLanes, kx2Lanes, iq4Lanes): eight
//     candidates at once, the sequential choice among them in Go; for
//     quantizers that search one group at a time;
//   - a lane per group (kx2Groups, qxGroups): 16 independent groups (a
//     K-quant block's 16, or two blocks' 8) in two interleaved sets of 8,
//     each lane running every candidate in turn and making its own choice
//     with masks. No lane is wasted on candidates past the last or on
//     passes redone after make_qkx2_quants moves its min, and the start
//     (maxima, weights, sums) runs in the lanes too.
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

// kx2SearchLanes is kx2Search's candidate loop on the kernel, eight
// candidates per pass, from the state after the initial fit (min lo, error
// bestErr, scale, levels lv): it returns the winner's scale, the final min
// and the winner's levels (its inverse scale and the min it was evaluated
// at). A winner that moves the min invalidates the rest of its pass, which
// restarts at the next candidate, as the scalar search's pairs do.
func kx2SearchLanes(x, weights []float32, nmax int32, rmin, rdelta float32, nstep int, mad bool,
	hi, lo, sumW, sumX, bestErr, scale float32, lv kx2Level) (float32, float32, kx2Level) {
	c := kx2Lanes{sumW: sumW, sumX: sumX, nmax: nmax, rmin: rmin, rdelta: rdelta, hi: hi}
	if mad {
		c.mad = 1
	}
	for is := 0; is <= nstep; {
		c.lo, c.is0 = lo, int32(is)
		kx2Kernel(&x[0], &weights[0], len(x), &c)
		next := is + lanes
		for k := 0; k < lanes && is+k <= nstep; k++ {
			if !(c.d[k] > 0) || !(c.err[k] < bestErr) {
				continue
			}
			bestErr, scale = c.err[k], c.scale[k]
			lv = kx2Level{c.iscale[k], c.lo}
			moved := c.min[k] != lo
			lo = c.min[k] // even when equal: ggml keeps the sign of a zero min
			if moved {
				next = is + k + 1
				break
			}
		}
		is = next
	}
	return scale, lo, lv
}

// iq4Lanes is IQ4_NL's trial search for one block, shared with
// iq4LanesAVX2: inputs the first inverse scale id[0] and the block's
// signed max mx, from which the kernel makes the other 15,
// (itry + kvalues[0])/mx; outputs each trial's Σ(w·q)·x and Σ(w·q)·q.
type iq4Lanes struct {
	id, qx, q2 [2 * lanes]float32
	mx         float32
}

// groupLanes is the number of groups the group kernel searches at once.
const groupLanes = 2 * lanes

// kx2Groups is make_qkx2_quants run on 16 independent groups at once, one
// group per lane, shared with kx2GroupsAVX2. Inputs: the groups' values
// x[i][g] (value i of group g, n ≤ maxGroup values each), their weights
// w[i][g] where wmode is kx2Given, and the search's settings (nmax in
// every slot of nmax). The kernel sets the weights (other modes), ggml's
// start (max hi, min lo0 raised to at most 0, Σw, Σw·x), runs the initial
// fit and then every candidate in turn, each lane keeping its own best fit
// and min, so no candidate is wasted or evaluated twice. Outputs: each
// group's best error, scale, and the inverse scale and min its levels came
// from (iscale, bestLo); lo ends as the group's final min. L is the
// kernel's scratch.
type kx2Groups struct {
	x, w, L            [maxGroup][groupLanes]float32
	lo, hi, sumW, sumX [groupLanes]float32
	err, scale         [groupLanes]float32
	iscale, bestLo     [groupLanes]float32
	nmax               [lanes]float32
	mad                uint32 // 1: weigh |error|, 0: error²
	rmin, rdelta       float32
	nstep              int32
	wmode              kx2Weights
	_                  [3]uint32
	lo0                [groupLanes]float32 // the min before the search
}

// kx2MinRange is the smallest max - min the group kernel takes: its
// inverse scales, at most (nmax + 1)/(max - min) ≤ 2¹⁰⁶, stay finite, so
// every is·(x - min) lies in [0, nmax + 1], where rint and nearest_int
// agree. Narrower groups (subnormal values only) run alone, on
// makeQKX2Quants.
const kx2MinRange = 0x1p-100

// kx2GroupsLanes is makeQKX2Groups for up to 16 groups of n values on the
// group kernel, which also sets the weights and ggml's start. Groups
// narrower than kx2MinRange are searched again alone, whatever their
// lanes computed.
func kx2GroupsLanes(x, w []float32, wmode kx2Weights, n int, nmax int32, rmin, rdelta float32, nstep int, mad bool, scales, negMins []float32, lvs []kx2Level) {
	c := kx2Groups{rmin: rmin, rdelta: rdelta, nstep: int32(nstep), wmode: wmode}
	for k := range c.nmax {
		c.nmax[k] = float32(nmax)
	}
	if mad {
		c.mad = 1
	}
	for g := range scales {
		for i, v := range x[g*n : g*n+n] {
			c.x[i][g] = v
		}
		if wmode == kx2Given {
			for i, v := range w[g*n : g*n+n] {
				c.w[i][g] = v
			}
		}
	}
	kx2GroupsKernel(&c, n)
	for g := range scales {
		if c.hi[g]-c.lo0[g] < kx2MinRange { // hi == lo included
			var ws [maxGroup]float32
			for i := range n {
				ws[i] = c.w[i][g]
			}
			scales[g], negMins[g], lvs[g] = kx2Search(x[g*n:g*n+n], ws[:n], nmax, rmin, rdelta, nstep, mad)
			continue
		}
		scales[g], negMins[g] = c.scale[g], -c.lo[g]
		lvs[g] = kx2Level{c.iscale[g], c.bestLo[g]}
	}
}

// qxGroups is make_qx_quants run on 16 independent groups at once, one
// group per lane, shared with qxGroupsAVX2. Inputs: the groups' values
// x[i][g] (n ≤ maxGroup values each), their weights w[i][g] unless
// squares is set (then w = x²), the candidates' numerators num
// (qxNumerators), and the level bounds lo = -nmax, hi = nmax-1 in every
// slot. Outputs: each group's max |x| (amax) and the first x reaching it
// (mx), the weights w and wv = w·x, its scale and the winning candidate's
// inverse scale.
type qxGroups struct {
	x, w, wv      [maxGroup][groupLanes]float32
	mx            [groupLanes]float32
	scale, iscale [groupLanes]float32
	num           [3 * lanes]float32
	lo, hi        [lanes]float32
	squares       uint32
	_             [7]uint32
	amax          [groupLanes]float32
}

// qxGroupsLanes is makeQXGroups for up to 16 groups of n values on the
// group kernel, which also finds each group's signed max and sets its
// weights. Groups below groupMaxEps get zero scales and inverse scales,
// whatever their lanes computed.
func qxGroupsLanes(x, qw []float32, n int, scales, iscales []float32, nmax int32) {
	var c qxGroups
	c.num = qxNumerators(nmax)
	for k := range c.lo {
		c.lo[k], c.hi[k] = float32(-nmax), float32(nmax-1)
	}
	if qw == nil {
		c.squares = 1
	}
	for g := range scales {
		for i, v := range x[g*n : g*n+n] {
			c.x[i][g] = v
		}
		if qw != nil {
			for i, w := range qw[g*n : g*n+n] {
				c.w[i][g] = w
			}
		}
	}
	qxGroupsKernel(&c, n)
	for g := range scales {
		if c.amax[g] < groupMaxEps {
			scales[g], iscales[g] = 0, 0
			continue
		}
		scales[g], iscales[g] = c.scale[g], c.iscale[g]
	}
}
