package model

import "math"

// expf is a float32 exp for x ≤ 0, for the softmaxes, GELU's tanh and
// SiLU's sigmoid, where math.Exp dominated the step: x = n·ln2 + r with
// |r| ≤ ln2/2, e^r by a degree-6 Taylor polynomial (relative error < 3e-8
// before rounding), and 2^n put into the exponent bits. Below −87 it
// returns 0. n is rounded by a float→int conversion, which is exact here
// because x·log2e ≤ 0 (truncation toward zero of f − ½ rounds f to
// nearest).
func expf(x float32) float32 {
	if x < -87 {
		return 0
	}
	const ln2Hi, ln2Lo, log2e = 0.693359375, -2.12194440e-4, 1.44269504088896341
	k := int32(x*log2e - 0.5)
	n := float32(k)
	r := x - n*ln2Hi - n*ln2Lo
	p := 1 + r*(1+r*(0.5+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return p * math.Float32frombits(uint32(k+127)<<23)
}

// tanhf is a float32 tanh through expf: tanh|z| = (1 − e)/(1 + e) with
// e = exp(−2|z|) ≤ 1, so it never overflows. Its absolute error is a few
// float32 ulps of 1 (relative error grows only where |z| < 1e-3, where
// callers add it to 1).
func tanhf(z float32) float32 {
	a := z
	if a < 0 {
		a = -a
	}
	e := expf(-2 * a)
	t := (1 - e) / (1 + e)
	if z < 0 {
		return -t
	}
	return t
}

// sigmoid is the logistic function 1/(1+e^−x) through expf.
func sigmoid(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + expf(-x))
	}
	e := expf(x)
	return e / (1 + e)
}
