package model

import (
	"math"
	"sync"

	"github.com/lorakit/lorakit/format/half"
)

// GELU, tanh approximation (GPT-2's "gelu_new"):
//
//	gelu(x) = x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))
const (
	geluScale = 0.7978845608028654 // √(2/π)
	geluCoef  = 0.044715
)

// gelu is GELU in float32 arithmetic through tanhf (the hot path).
func gelu(x float32) float32 {
	return 0.5 * x * (1 + tanhf(geluScale*(x+geluCoef*x*x*x)))
}

// geluExact is GELU in float64 with math.Tanh, for building the F16 table.
func geluExact(x float32) float32 {
	u := float64(x)
	return float32(0.5 * u * (1 + math.Tanh(geluScale*(u+geluCoef*u*u*u))))
}

// geluGrad is d gelu(x) / dx.
func geluGrad(x float32) float32 {
	t := tanhf(geluScale * (x + geluCoef*x*x*x))
	dt := (1 - t*t) * geluScale * (1 + 3*geluCoef*x*x)
	return 0.5*(1+t) + 0.5*x*dt
}

// geluCost is the rough work of one element, for parallelFor.
const geluCost = 40

// geluTable is llama.cpp's CPU GELU: for -10 < x < 10, x is rounded to F16
// and gelu(x) is read, rounded to F16, from a 65,536-entry table; below -10
// it is 0, above 10 it is x (fixtures README, quirk 11).
var geluTable = sync.OnceValue(func() []uint16 {
	t := make([]uint16, 1<<16)
	for i := range t {
		t[i] = half.F16(geluExact(half.F16Float32(uint16(i))))
	}
	return t
})

func geluF16(x float32, table []uint16) float32 {
	switch {
	case x <= -10:
		return 0
	case x >= 10:
		return x
	}
	return half.F16Float32(table[half.F16(x)])
}

// geluForward applies GELU elementwise; with f16Table it emulates
// llama.cpp's F16 lookup table (forward only: the backward pass always
// uses the exact derivative).
//
//	x (N) -> out (N)
func geluForward(out, x []float32, f16Table bool) {
	var table []uint16
	if f16Table {
		table = geluTable()
	}
	parallelFor(len(x), geluCost, func(lo, hi int) {
		if table != nil {
			for i := lo; i < hi; i++ {
				out[i] = geluF16(x[i], table)
			}
			return
		}
		if haveVec {
			n := (hi - lo) &^ 7
			geluAVX2(out[lo:lo+n], x[lo:lo+n])
			lo += n
		}
		for i, v := range x[lo:hi] {
			out[lo+i] = gelu(v)
		}
	})
}

// geluBackward sets dx = dout · gelu'(x).
//
//	dout (N), x (N) -> dx (N)
func geluBackward(dx, dout, x []float32) {
	parallelFor(len(x), geluCost, func(lo, hi int) {
		if haveVec {
			n := (hi - lo) &^ 7
			geluGradAVX2(dx[lo:lo+n], dout[lo:lo+n], x[lo:lo+n])
			lo += n
		}
		for i, v := range x[lo:hi] {
			dx[lo+i] = dout[lo+i] * geluGrad(v)
		}
	})
}
