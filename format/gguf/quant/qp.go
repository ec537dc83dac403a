package quant

// makeQPQuants is make_qp_quants(n, nmax, x, L, quant_weights): a positive
// scale for the non-negative values x (the sub-block scales or mins of a
// K-quant block) with levels in [0, nmax], chosen among nine inverse scales
// by the qw-weighted squared error, then refined by up to five rounds of
// coordinate descent on the weighted least-squares fit. L receives the
// levels as ggml's uint8_t array holds them (a negative level, possible
// only for negative x, wraps modulo 256 and is compared wrapped, as in
// ggml). x has at most 16 values.
func makeQPQuants(x []float32, nmax int32, L []uint8, qw []float32) float32 {
	n := len(x)
	L, qw = L[:n:n], qw[:n:n]
	var mx float32
	for _, v := range x {
		if !(mx > v) { // MAX(max, x[i])
			mx = v
		}
	}
	if mx < groupMaxEps {
		clear(L)
		return 0
	}
	fmax := float32(nmax)
	iscale := fmax / mx
	for i, v := range x {
		L[i] = uint8(nearestInt(float32(iscale * v)))
	}
	scale := 1 / iscale
	var best float32
	for i, v := range x {
		diff := v - float32(scale*float32(L[i]))
		best += float32(float32(qw[i]*diff) * diff)
	}
	for is := int32(-4); is <= 4; is++ {
		if is == 0 {
			continue
		}
		iscaleIs := (float32(0.1*float32(is)) + fmax) / mx
		scaleIs := 1 / iscaleIs
		var mse float32
		for i, v := range x {
			l := min(nmax, nearestInt(float32(iscaleIs*v)))
			diff := v - float32(scaleIs*float32(l))
			mse += float32(float32(qw[i]*diff) * diff)
		}
		if mse < best {
			best, iscale = mse, iscaleIs
		}
	}
	var sumlx, suml2 float32
	for i, v := range x {
		l := min(nmax, nearestInt(float32(iscale*v)))
		L[i] = uint8(l)
		fl := float32(l)
		sumlx += float32(float32(qw[i]*v) * fl)
		suml2 += float32(float32(qw[i]*fl) * fl)
	}
	for range 5 {
		changed := 0
		for i, v := range x {
			w, li := qw[i], float32(L[i])
			slx := sumlx - float32(float32(w*v)*li)
			sl2 := suml2 - float32(float32(w*li)*li)
			if slx > 0 && sl2 > 0 {
				nl := min(nmax, nearestInt(float32(v*sl2)/slx))
				if nl != int32(L[i]) {
					fn := float32(nl)
					slx += float32(float32(w*v) * fn)
					sl2 += float32(float32(w*fn) * fn)
					if float32(float32(slx*slx)*suml2) > float32(float32(sumlx*sumlx)*sl2) {
						L[i], sumlx, suml2 = uint8(nl), slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// imatrixWeights sets w[i] = qw[i]·sqrt(sigma2 + x[i]²), the weights
// ggml's quantizers derive from the importance values qw (x, qw and w of
// the same length).
func imatrixWeights(w, x, qw []float32, sigma2 float32) {
	for i, v := range x {
		w[i] = float32(qw[i] * sqrtf(sigma2+float32(v*v)))
	}
}

// sumSquares is Σx², accumulated in order.
func sumSquares(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += float32(v * v)
	}
	return s
}

// sum is Σx, accumulated in order.
func sum(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}
