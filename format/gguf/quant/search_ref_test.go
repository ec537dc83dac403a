package quant

// The straightforward ports of ggml's scale searches, kept as oracles for
// the optimised ones in search.go: these were first proven bit-exact
// against ggml's fixtures, and differential_test.go checks the fast
// versions against them on many more groups than the fixtures hold.

// refWeightedSums returns Σw·x·l and Σw·l² for the levels l = clamp(nearest(
// iscale·x), -nmax, nmax-1), with w = qw, or x² (rmse_type 1) for nil qw.
// If L is not nil the levels, offset by nmax, are stored in it.
func refWeightedSums(x, qw []float32, nmax int32, iscale float32, L []int8) (sumlx, suml2 float32) {
	for i, v := range x {
		l := max(-nmax, min(nmax-1, nearestInt(float32(iscale*v))))
		if L != nil {
			L[i] = int8(l + nmax)
		}
		w := float32(v * v)
		if qw != nil {
			w = qw[i]
		}
		fl := float32(l)
		sumlx += float32(float32(w*v) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	return sumlx, suml2
}

// refMakeQXQuants is make_qx_quants(n, nmax, x, L, rmse_type=1, qw): a
// signed scale for levels in [-nmax, nmax-1], chosen among 19 candidate
// inverse scales by least squares weighted by qw (x² for nil). L receives
// the levels + nmax.
func refMakeQXQuants(x, qw []float32, nmax int32, L []int8) float32 {
	var mx, amax float32
	for _, v := range x {
		if a := abs(v); a > amax {
			amax, mx = a, v
		}
	}
	if amax < groupMaxEps {
		clear(L[:len(x)])
		return 0
	}
	iscale := float32(-nmax) / mx
	sumlx, suml2 := refWeightedSums(x, qw, nmax, iscale, L)
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := float32(scale * sumlx)
	for is := int32(-9); is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(float32(nmax) + float32(0.1*float32(is))) / mx
		sumlx, suml2 = refWeightedSums(x, qw, nmax, iscale, nil)
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			refWeightedSums(x, qw, nmax, iscale, L)
			scale = sumlx / suml2
			best = float32(scale * sumlx)
		}
	}
	return scale
}

// refMakeQ3Quants is make_q3_quants(n, nmax, x, L, do_rmse=true): levels in
// [-nmax, nmax-1] refined by up to five rounds of coordinate descent on the
// x²-weighted error. L receives the levels + nmax.
func refMakeQ3Quants(x []float32, nmax int32, L []int8) float32 {
	var mx, amax float32
	for _, v := range x {
		if a := abs(v); a > amax {
			amax, mx = a, v
		}
	}
	if amax < groupMaxEps {
		clear(L[:len(x)])
		return 0
	}
	iscale := float32(-nmax) / mx
	var sumlx, suml2 float32
	for i, v := range x {
		l := max(-nmax, min(nmax-1, nearestInt(float32(iscale*v))))
		L[i] = int8(l)
		w := float32(v * v)
		fl := float32(l)
		sumlx += float32(float32(w*v) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	for range 5 {
		changed := 0
		for i, v := range x {
			w := float32(v * v)
			li := float32(L[i])
			slx := sumlx - float32(float32(w*v)*li)
			if slx > 0 {
				sl2 := suml2 - float32(float32(w*li)*li)
				nl := max(-nmax, min(nmax-1, nearestInt(float32(v*sl2)/slx)))
				if nl != int32(L[i]) {
					fn := float32(nl)
					slx += float32(float32(w*v) * fn)
					sl2 += float32(float32(w*fn) * fn)
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

// refMakeQKX2Quants is make_qkx2_quants: an asymmetric fit x ≈ scale·L + min
// with L in [0, nmax] and min ≤ 0, searched over nstep+1 inverse scales
// (rmin + rdelta·is + nmax)/(max - min) by the weighted squared error, or
// the weighted absolute error when mad is set. It returns the scale and
// -min; L receives the levels and aux is scratch (both len(x)).
func refMakeQKX2Quants(x, weights []float32, nmax int32, L, aux []uint8, rmin, rdelta float32, nstep int, mad bool) (scale, negMin float32) {
	n := len(x)
	lo, hi := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		v := x[i]
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
		w := weights[i]
		sumW += w
		sumX += float32(w * v)
	}
	if lo > 0 {
		lo = 0
	}
	if hi == lo {
		clear(L[:n])
		return 0, -lo
	}
	iscale := float32(nmax) / (hi - lo)
	scale = 1 / iscale
	var bestErr float32
	for i, v := range x {
		l := max(0, min(nmax, nearestInt(float32(iscale*(v-lo)))))
		L[i] = uint8(l)
		diff := float32(float32(scale*float32(l))+lo) - v
		if mad {
			diff = abs(diff)
		} else {
			diff = float32(diff * diff)
		}
		bestErr += float32(weights[i] * diff)
	}
	for is := range nstep + 1 {
		iscale = (float32(rmin+float32(rdelta*float32(is))) + float32(nmax)) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := max(0, min(nmax, nearestInt(float32(iscale*(v-lo)))))
			aux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			sumL += float32(w * fl)
			sumL2 += float32(float32(w*fl) * fl)
			sumXL += float32(float32(w*fl) * v)
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D > 0 {
			thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
			thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var curErr float32
			for i, v := range x {
				diff := float32(float32(thisScale*float32(aux[i]))+thisMin) - v
				if mad {
					diff = abs(diff)
				} else {
					diff = float32(diff * diff)
				}
				curErr += float32(weights[i] * diff)
			}
			if curErr < bestErr {
				copy(L[:n], aux[:n])
				bestErr, scale, lo = curErr, thisScale, thisMin
			}
		}
	}
	return scale, -lo
}

// refQuantizeIQ4_NL is quantize_iq4_nl's per-block quantize_row_iq4_nl_impl
// (super-block 32, one block, ntry 7, no importance weights): x (32) -> b (18).
func refQuantizeIQ4_NL(b []byte, x []float32) {
	const ntry = 7
	var (
		L      [32]uint8
		weight [32]float32
	)
	var amax, mx float32
	for j, v := range x[:32] {
		weight[j] = float32(v * v)
		if a := abs(v); a > amax {
			amax, mx = a, v
		}
	}
	var scale float32
	if amax >= groupMaxEps {
		v0 := float32(kvaluesIQ4NL[0])
		d := -mx / v0
		id := 1 / d
		var sumqx, sumq2 float32
		for j, v := range x[:32] {
			q := float32(kvaluesIQ4NL[bestIndexIQ4(float32(id*v))])
			w := weight[j]
			sumqx += float32(float32(w*q) * v)
			sumq2 += float32(float32(w*q) * q)
		}
		d = 0
		if sumq2 > 0 {
			d = sumqx / sumq2
		}
		best := float32(d * sumqx)
		for itry := -ntry; itry <= ntry; itry++ {
			id = float32(int32(itry)+int32(kvaluesIQ4NL[0])) / mx
			sumqx, sumq2 = 0, 0
			for j, v := range x[:32] {
				q := float32(kvaluesIQ4NL[bestIndexIQ4(float32(id*v))])
				w := weight[j]
				sumqx += float32(float32(w*q) * v)
				sumq2 += float32(float32(w*q) * q)
			}
			if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
				d = sumqx / sumq2
				best = float32(d * sumqx)
			}
		}
		scale = d
	}
	putF16(b, scale)
	id := inverse(scale)
	for j, v := range x[:32] {
		L[j] = uint8(bestIndexIQ4(float32(id * v)))
	}
	for j := range 16 {
		b[2+j] = L[j] | L[j+16]<<4
	}
}
