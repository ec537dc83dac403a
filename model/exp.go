package model

import "math"

// expf is a float32 exp for the softmax over the vocabulary, where
// math.Exp dominated the step: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a
// degree-6 Taylor polynomial (relative error < 3e-8 before rounding), and
// 2^n put into the exponent bits. Inputs are ≤ 0 here (x − max); below
// −87 it returns 0.
func expf(x float32) float32 {
	if x < -87 {
		return 0
	}
	const ln2Hi, ln2Lo, log2e = 0.693359375, -2.12194440e-4, 1.44269504088896341
	n := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - n*ln2Hi - n*ln2Lo
	p := 1 + r*(1+r*(0.5+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
