package quant

// The scale searches shared by the K-quant reference quantizers, ports of
// ggml-quants.c's make_qx_quants, make_q3_quants and make_qkx2_quants.
//
// Every float32 result is ggml's bit for bit: each sum is accumulated in
// ggml's element order, and products that feed a sum are wrapped in
// float32(...) so they are never fused. The speed comes from elsewhere:
// products that do not depend on the candidate scale (x², x³, x-min) are
// computed once per group, levels are kept as float32, and candidates
// whose outcomes do not depend on each other are evaluated side by side so
// that their independent dependency chains overlap in the CPU, or run in
// separate SIMD lanes (lanes.go) where useLanes is set.

import "math"

// groupMaxEps is GROUP_MAX_EPS: a group whose largest |x| is below it is zero.
const groupMaxEps = 1e-15

// maxGroup is the largest group the searches handle (Q4_K and Q5_K's 32).
const maxGroup = 32

// level is nearest_int(f) clamped to [lo, hi], as a float32.
func level(f float32, lo, hi int32) float32 {
	return float32(max(lo, min(hi, nearestInt(f))))
}

// smallLevel is level for |f| < 2²², where nearest_int(f) is exactly
// (f + 1.5·2²³) - 1.5·2²³: no integer round trip, and the clamps are
// branches that almost always go the same way.
func smallLevel(f, lo, hi float32) float32 {
	r := (f + 12582912) - 12582912
	if r < lo {
		r = lo
	}
	if r > hi {
		r = hi
	}
	return r
}

// signedAbsMax returns max|x| and the (first) x reaching it, for finite
// x, as ggml's `if (ax > amax) { amax = ax; max = x; }` loop: the largest
// |x| is found branch-free on the bit patterns (whose integer order is the
// float order for non-negative floats), then its first x.
func signedAbsMax(x []float32) (amax, mx float32) {
	var bits uint32
	for _, v := range x {
		bits = max(bits, math.Float32bits(v)&0x7fffffff)
	}
	if bits == 0 {
		return 0, 0
	}
	for _, v := range x {
		if math.Float32bits(v)&0x7fffffff == bits {
			mx = v
			break
		}
	}
	return math.Float32frombits(bits), mx
}

// qxCandidates is the number of inverse scales make_qx_quants tries: the
// initial -nmax/max and -(nmax + 0.1·is)/max for is in ±1..±9.
const qxCandidates = 19

// makeQXQuants is make_qx_quants(n, nmax, x, L, rmse_type=1, qw): a
// signed scale for levels in [-nmax, nmax-1], chosen among 19 candidate
// inverse scales by least squares weighted by qw, or by x² where qw is nil.
// L receives the levels + nmax. x has at most maxGroup values.
//
// The candidates' sums do not depend on one another (only the choice among
// them is sequential), so all 19 are accumulated in one pass over x, each
// in ggml's element order, on the lane kernel where useLanes is set; the
// levels are then computed once, for the winner.
func makeQXQuants(x, qw []float32, nmax int32, L []int8) float32 {
	scale, _ := qxSearch(x, qw, nmax, L)
	return scale
}

// qxSearch is makeQXQuants, also returning the winning inverse scale (0
// for a group below groupMaxEps), from which qxLevels gives L.
func qxSearch(x, qw []float32, nmax int32, L []int8) (scale, iscale float32) {
	amax, mx := signedAbsMax(x)
	if amax < groupMaxEps {
		clear(L[:len(x)])
		return 0, 0
	}
	var c qxLanes
	c.num = qxNumerators(nmax)
	c.mx = mx
	var w, wv [maxGroup]float32 // the weights (x² by default) and w·x
	for i, v := range x {
		if qw != nil {
			w[i] = qw[i]
		} else {
			w[i] = float32(v * v)
		}
		wv[i] = float32(w[i] * v)
	}
	if useLanes {
		for k := range lanes {
			c.lo[k], c.hi[k] = -nmax, nmax-1
		}
		qxKernel(&x[0], &w[0], &wv[0], len(x), &c)
	} else {
		for k, n := range c.num {
			c.iscale[k] = n / mx
		}
		qxSumsGo(x, &w, &wv, nmax, &c)
	}
	sumlx, suml2 := &c.lx, &c.l2
	if suml2[0] != 0 {
		scale = sumlx[0] / suml2[0]
	}
	best, win := float32(scale*sumlx[0]), 0
	for c := 1; c < qxCandidates; c++ {
		if suml2[c] > 0 && float32(sumlx[c]*sumlx[c]) > float32(best*suml2[c]) {
			scale = sumlx[c] / suml2[c]
			best, win = float32(scale*sumlx[c]), c
		}
	}
	qxLevels(L, x, c.iscale[win], nmax)
	return scale, c.iscale[win]
}

// qxLevels sets make_qx_quants's levels L of x for the winning inverse
// scale iscale: nearest_int(iscale·x) clamped to [-nmax, nmax-1], plus
// nmax; all 0 where iscale is 0 (a group below groupMaxEps).
func qxLevels(L []int8, x []float32, iscale float32, nmax int32) {
	L = L[:len(x)]
	if iscale == 0 {
		clear(L)
		return
	}
	for i, v := range x {
		L[i] = int8(max(-nmax, min(nmax-1, nearestInt(float32(iscale*v)))) + nmax)
	}
}

// qxNumerators returns make_qx_quants's candidate numerators in ggml's
// order of trial: -nmax (for -nmax/max), then -(nmax + 0.1·is) for is =
// -9..9 except 0; the last is repeated into the unused slots.
func qxNumerators(nmax int32) [3 * lanes]float32 {
	var num [3 * lanes]float32
	num[0] = float32(-nmax)
	k := 1
	for is := int32(-9); is <= 9; is++ {
		if is != 0 {
			num[k] = -(float32(nmax) + float32(0.1*float32(is)))
			k++
		}
	}
	for k := qxCandidates; k < len(num); k++ {
		num[k] = num[qxCandidates-1]
	}
	return num
}

// makeQXGroups is makeQXQuants on each of the len(scales) groups of n
// values of x (importance qw alike, or nil), with the same nmax: group g's
// scale goes to scales[g] and its winning inverse scale to iscales[g], from
// which qxLevels gives its levels (callers that requantize with the final
// scales need them only where those are zero). Where useLanes is set, runs
// of more than 8 groups (up to 16 at a time) are searched side by side,
// one per lane of the group kernel; fewer run on qxSearch, one group at a
// time.
func makeQXGroups(x, qw []float32, n int, nmax int32, scales, iscales []float32) {
	for g0 := 0; g0 < len(scales); g0 += groupLanes {
		g1 := min(g0+groupLanes, len(scales))
		xs := x[g0*n : g1*n]
		var ws []float32
		if qw != nil {
			ws = qw[g0*n : g1*n]
		}
		if useLanes && g1-g0 > lanes {
			qxGroupsLanes(xs, ws, n, scales[g0:g1], iscales[g0:g1], nmax)
			continue
		}
		var L [maxGroup]int8
		for g := range g1 - g0 {
			var w []float32
			if ws != nil {
				w = ws[g*n : g*n+n]
			}
			scales[g0+g], iscales[g0+g] = qxSearch(xs[g*n:g*n+n], w, nmax, L[:n])
		}
	}
}

// qxSumsGo is the candidate loop of makeQXQuants in Go: for each candidate
// c, lx[c] = Σ wv·l and l2[c] = Σ (w·l)·l, l the levels of iscale[c]·x in
// [-nmax, nmax-1], w the weights and wv = w·x. Three candidates run
// interleaved.
func qxSumsGo(x []float32, w, wv *[maxGroup]float32, nmax int32, q *qxLanes) {
	iscales, sumlx, suml2 := &q.iscale, &q.lx, &q.l2
	for c := 0; c < qxCandidates; c += 3 {
		ia, ib, ic := iscales[c], iscales[min(c+1, qxCandidates-1)], iscales[min(c+2, qxCandidates-1)]
		var a, b, d qxSums
		lo, hi := float32(-nmax), float32(nmax-1)
		for i, v := range x {
			a.add(w[i], wv[i], smallLevel(float32(ia*v), lo, hi)) // |ia·v| <= nmax+0.9
			b.add(w[i], wv[i], smallLevel(float32(ib*v), lo, hi))
			d.add(w[i], wv[i], smallLevel(float32(ic*v), lo, hi))
		}
		sumlx[c], suml2[c] = a.lx, a.l2
		sumlx[min(c+1, qxCandidates-1)], suml2[min(c+1, qxCandidates-1)] = b.lx, b.l2
		sumlx[min(c+2, qxCandidates-1)], suml2[min(c+2, qxCandidates-1)] = d.lx, d.l2
	}
}

// qxSums are one make_qx_quants candidate's running sums.
type qxSums struct{ lx, l2 float32 }

// add accumulates level l of a value x with weight w and wv = w·x.
func (s *qxSums) add(w, wv, l float32) {
	s.lx += float32(wv * l)
	s.l2 += float32(float32(w*l) * l)
}

// makeQ3Quants is make_q3_quants(n, nmax, x, L, do_rmse=true): levels in
// [-nmax, nmax-1] refined by up to five rounds of coordinate descent on the
// x²-weighted error. L receives the levels + nmax. x has at most maxGroup
// values.
func makeQ3Quants(x []float32, nmax int32, L []int8) float32 {
	amax, mx := signedAbsMax(x)
	if amax < groupMaxEps {
		clear(L[:len(x)])
		return 0
	}
	x = x[:len(x):len(x)]
	L = L[:len(x)]
	var w, wv [maxGroup]float32 // x², x²·x
	iscale := float32(-nmax) / mx
	var sumlx, suml2 float32
	for i, v := range x {
		l := max(-nmax, min(nmax-1, nearestInt(float32(iscale*v))))
		L[i] = int8(l)
		w[i] = float32(v * v)
		wv[i] = float32(w[i] * v)
		fl := float32(l)
		sumlx += float32(wv[i] * fl)
		suml2 += float32(float32(w[i]*fl) * fl)
	}
	for range 5 {
		changed := 0
		for i, v := range x {
			li := float32(L[i])
			slx := sumlx - float32(wv[i]*li)
			if slx > 0 {
				sl2 := suml2 - float32(float32(w[i]*li)*li)
				nl := max(-nmax, min(nmax-1, nearestInt(float32(v*sl2)/slx)))
				if nl != int32(L[i]) {
					fn := float32(nl)
					slx += float32(wv[i] * fn)
					sl2 += float32(float32(w[i]*fn) * fn)
					if sl2 > 0 && float32(float32(slx*slx)*suml2) > float32(float32(sumlx*sumlx)*sl2) {
						L[i], sumlx, suml2 = int8(nl), slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	for i := range x {
		L[i] += int8(nmax)
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// kx2Group is one group's fixed data during a make_qkx2_quants search.
type kx2Group struct {
	x, w  []float32 // the values and their weights (n each)
	nmax  int32
	mad   bool              // weigh |error| instead of error²
	shift [maxGroup]float32 // x - min for the current min
}

// kx2Fit is one candidate's outcome: its levels and inverse scale,
// least-squares scale and min, weighted error, and whether the fit exists
// (D > 0).
type kx2Fit struct {
	L          [maxGroup]float32
	iscale     float32
	scale, min float32
	err        float32
	ok         bool
}

// setMin recomputes shift for a new min.
func (g *kx2Group) setMin(lo float32) {
	for i, v := range g.x {
		g.shift[i] = v - lo
	}
}

// fit2 evaluates the candidate inverse scales ia and ib on the current
// shift, with Σw and Σw·x given: the levels, the least-squares (scale, min)
// (min clamped to 0) and its weighted error, exactly as ggml computes them
// for one candidate. The two candidates' chains are independent and run
// interleaved.
func (g *kx2Group) fit2(ia, ib, sumW, sumX float32, a, b *kx2Fit) {
	n := len(g.x)
	x, w, sh := g.x[:n], g.w[:n], g.shift[:n]
	la, lb := a.L[:n], b.L[:n]
	var sumLa, sumL2a, sumXLa, sumLb, sumL2b, sumXLb float32
	for i, v := range x {
		wi := w[i]
		fa := level(float32(ia*sh[i]), 0, g.nmax)
		fb := level(float32(ib*sh[i]), 0, g.nmax)
		la[i], lb[i] = fa, fb
		wa, wb := float32(wi*fa), float32(wi*fb)
		sumLa += wa
		sumLb += wb
		sumL2a += float32(wa * fa)
		sumL2b += float32(wb * fb)
		sumXLa += float32(wa * v)
		sumXLb += float32(wb * v)
	}
	a.iscale, b.iscale = ia, ib
	a.solve(sumW, sumX, sumLa, sumL2a, sumXLa)
	b.solve(sumW, sumX, sumLb, sumL2b, sumXLb)
	var errA, errB float32
	for i, v := range x {
		da := float32(float32(a.scale*la[i])+a.min) - v
		db := float32(float32(b.scale*lb[i])+b.min) - v
		if g.mad {
			da, db = abs(da), abs(db)
		} else {
			da, db = float32(da*da), float32(db*db)
		}
		errA += float32(w[i] * da)
		errB += float32(w[i] * db)
	}
	a.err, b.err = errA, errB
}

// solve sets the least-squares scale and min of f from its weighted sums
// (ggml's D, this_scale, this_min).
func (f *kx2Fit) solve(sumW, sumX, sumL, sumL2, sumXL float32) {
	D := float32(sumW*sumL2) - float32(sumL*sumL)
	f.ok = D > 0
	if !f.ok {
		f.scale, f.min = 0, 0 // keeps the error loop finite; unused
		return
	}
	f.scale = (float32(sumW*sumXL) - float32(sumX*sumL)) / D
	f.min = (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
	if f.min > 0 {
		f.min = 0
		f.scale = sumXL / sumL2
	}
}

// makeQKX2Quants is make_qkx2_quants: an asymmetric fit x ≈ scale·L + min
// with L in [0, nmax] and min ≤ 0, searched over nstep+1 inverse scales
// (rmin + rdelta·is + nmax)/(max - min) by the weighted squared error, or
// the weighted absolute error when mad is set. It returns the scale and
// -min; L receives the levels. x has at most maxGroup values.
func makeQKX2Quants(x, weights []float32, nmax int32, L []uint8, rmin, rdelta float32, nstep int, mad bool) (scale, negMin float32) {
	scale, negMin, lv := kx2Search(x, weights, nmax, rmin, rdelta, nstep, mad)
	lv.levels(L, x, nmax)
	return scale, negMin
}

// kx2Level is how a make_qkx2_quants search's levels follow from its
// winner: L = nearest_int(iscale·(x - lo)) clamped to [0, nmax], exactly
// as the search computed them (iscale 0, for a flat group, gives zeros).
type kx2Level struct{ iscale, lo float32 }

// levels sets the levels L of x.
func (lv kx2Level) levels(L []uint8, x []float32, nmax int32) {
	L = L[:len(x)]
	for i, v := range x {
		L[i] = uint8(level(float32(lv.iscale*(v-lv.lo)), 0, nmax))
	}
}

// kx2Search is makeQKX2Quants without the levels, which it describes
// instead (callers that requantize with the final scales need them only
// where those are zero). The candidate loop runs on the lane kernel where
// useLanes is set, else in Go (kx2SearchGo).
func kx2Search(x, weights []float32, nmax int32, rmin, rdelta float32, nstep int, mad bool) (scale, negMin float32, lv kx2Level) {
	n := len(x)
	x, weights = x[:n:n], weights[:n:n]
	lo, hi, sumW, sumX := kx2Start(x, weights)
	if hi == lo {
		return 0, -lo, kx2Level{0, lo}
	}
	iscale := float32(nmax) / (hi - lo)
	scale = 1 / iscale
	var bestErr float32
	for i, v := range x {
		l := level(float32(iscale*(v-lo)), 0, nmax)
		diff := float32(float32(scale*l)+lo) - v
		if mad {
			diff = abs(diff)
		} else {
			diff = float32(diff * diff)
		}
		bestErr += float32(weights[i] * diff)
	}
	lv = kx2Level{iscale, lo}
	if useLanes {
		scale, lo, lv = kx2SearchLanes(x, weights, nmax, rmin, rdelta, nstep, mad, hi, lo, sumW, sumX, bestErr, scale, lv)
		return scale, -lo, lv
	}
	scale, lo, lv = kx2SearchGo(x, weights, nmax, rmin, rdelta, nstep, mad, hi, lo, sumW, sumX, bestErr, scale, lv)
	return scale, -lo, lv
}

// kx2Start is the start of make_qkx2_quants on x with weights w (n ≥ 1
// each): the min (raised to 0 if above), the max, Σw and Σw·x, in ggml's
// order.
func kx2Start(x, w []float32) (lo, hi, sumW, sumX float32) {
	lo, hi = minMax(x) // ggml's loop seeded with x[0]: the same for finite x
	w = w[:len(x)]
	sumW = w[0]
	sumX = float32(sumW * x[0])
	for i := 1; i < len(x); i++ {
		sumW += w[i]
		sumX += float32(w[i] * x[i])
	}
	if lo > 0 {
		lo = 0
	}
	return lo, hi, sumW, sumX
}

// kx2Weights says where make_qkx2_quants's weights come from.
type kx2Weights uint32

const (
	kx2Given kx2Weights = iota // passed in (importance)
	kx2AvAbs                   // sqrt(Σx²/n) + |x| (Q4_K and Q5_K)
	kx2AbsX                    // |x| (Q2_K)
)

// set stores the weights of x (mode kx2AvAbs or kx2AbsX) in w.
func (m kx2Weights) set(w, x []float32) {
	var avX float32
	if m == kx2AvAbs {
		var sumX2 float32
		for _, v := range x {
			sumX2 += float32(v * v)
		}
		avX = sqrtf(sumX2 / float32(len(x)))
	}
	w = w[:len(x)]
	for i, v := range x {
		w[i] = avX + abs(v)
	}
}

// makeQKX2Groups is kx2Search on each of the len(scales) groups of n
// values of x, with the same settings and weights: w's where wmode is
// kx2Given, else the mode's (w unused). Group g's scale
// and -min go to scales[g] and negMins[g], and how its levels follow to
// lvs[g]. Where
// useLanes is set, runs of more than 8 groups (up to 16 at a time) are
// searched side by side, one per lane of the group kernel; fewer groups
// would leave it idle, and take kx2Search's kernel, one group at a time.
func makeQKX2Groups(x, w []float32, wmode kx2Weights, n int, nmax int32, rmin, rdelta float32, nstep int, mad bool, scales, negMins []float32, lvs []kx2Level) {
	for g0 := 0; g0 < len(scales); g0 += groupLanes {
		g1 := min(g0+groupLanes, len(scales))
		xs := x[g0*n : g1*n]
		var ws []float32
		if wmode == kx2Given {
			ws = w[g0*n : g1*n]
		}
		if useLanes && g1-g0 > lanes {
			kx2GroupsLanes(xs, ws, wmode, n, nmax, rmin, rdelta, nstep, mad, scales[g0:g1], negMins[g0:g1], lvs[g0:g1])
			continue
		}
		var own [maxGroup]float32
		for g := range g1 - g0 {
			xg := xs[g*n : g*n+n]
			wg := own[:n]
			if wmode == kx2Given {
				wg = ws[g*n : g*n+n]
			} else {
				wmode.set(wg, xg)
			}
			scales[g0+g], negMins[g0+g], lvs[g0+g] = kx2Search(xg, wg, nmax, rmin, rdelta, nstep, mad)
		}
	}
}

// kx2SearchGo is kx2Search's candidate loop in Go, from the state after
// the initial fit (error bestErr, scale, levels lv, min lo): it returns the
// winner's scale, the final min and the winner's levels.
//
// A candidate that wins moves min, which changes the later candidates, so
// the search is sequential. Candidates are still evaluated in pairs: the
// second of a pair is discarded and evaluated again when the first wins
// and moves min (about 2.5 times per group), which costs less than the
// overlap of the pair's chains gains.
func kx2SearchGo(x, weights []float32, nmax int32, rmin, rdelta float32, nstep int, mad bool,
	hi, lo, sumW, sumX, bestErr, scale float32, lv kx2Level) (float32, float32, kx2Level) {
	g := kx2Group{x: x, w: weights, nmax: nmax, mad: mad}
	g.setMin(lo)
	var cand [2]kx2Fit
	candidate := func(is int) float32 {
		return (float32(rmin+float32(rdelta*float32(is))) + float32(nmax)) / (hi - lo)
	}
	for is := 0; is <= nstep; {
		// The second of the pair may lie past nstep; it is then ignored.
		g.fit2(candidate(is), candidate(is+1), sumW, sumX, &cand[0], &cand[1])
		for k := range 2 {
			if is > nstep {
				break
			}
			f := &cand[k]
			is++
			if !f.ok || !(f.err < bestErr) {
				continue
			}
			lv = kx2Level{f.iscale, lo}
			bestErr, scale = f.err, f.scale
			moved := f.min != lo
			lo = f.min // even when equal: ggml keeps the sign of a zero min
			if moved {
				g.setMin(lo)
				break // the rest of the pair used the old min
			}
		}
	}
	return scale, lo, lv
}
