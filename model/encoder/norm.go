package encoder

import "math"

// layerNorm is LayerNorm over the hidden dimension (biased variance), with
// a float32 weight and bias.
type layerNorm struct {
	Name   string // GGUF name without .weight ("blk.0.attn_output_norm")
	W, B   []float32
	DW, DB []float32 // gradients when trained (full pre-training), else nil
	eps    float64
}

// normCache keeps the normalised rows and 1/std for the backward pass.
type normCache struct {
	xhat []float64 // (n,C)
	rstd []float64 // (n)
}

// forward normalises each row.
//
//	x (n,C) -> y (n,C)
func (ln *layerNorm) forward(x []float64, n int, c *normCache) []float64 {
	C := len(ln.W)
	y := make([]float64, n*C)
	xhat := make([]float64, n*C)
	rstd := make([]float64, n)
	for i := range n {
		xi := x[i*C : (i+1)*C]
		m := 0.0
		for _, v := range xi {
			m += v
		}
		m /= float64(C)
		s := 0.0
		for _, v := range xi {
			s += (v - m) * (v - m)
		}
		r := 1 / math.Sqrt(s/float64(C)+ln.eps)
		rstd[i] = r
		for k, v := range xi {
			h := (v - m) * r
			xhat[i*C+k] = h
			y[i*C+k] = h*float64(ln.W[k]) + float64(ln.B[k])
		}
	}
	if c != nil {
		*c = normCache{xhat: xhat, rstd: rstd}
	}
	return y
}

// backward returns dx and, when the norm is trained, accumulates DW, DB.
//
//	dy (n,C) -> dx (n,C)
func (ln *layerNorm) backward(dy []float64, c *normCache) []float64 {
	C := len(ln.W)
	n := len(c.rstd)
	dx := make([]float64, n*C)
	for i := range n {
		var sd, sdh float64
		for k := range C {
			d := dy[i*C+k] * float64(ln.W[k])
			sd += d
			sdh += d * c.xhat[i*C+k]
		}
		sd /= float64(C)
		sdh /= float64(C)
		for k := range C {
			d := dy[i*C+k] * float64(ln.W[k])
			dx[i*C+k] = c.rstd[i] * (d - sd - c.xhat[i*C+k]*sdh)
			if ln.DW != nil {
				ln.DW[k] += float32(dy[i*C+k] * c.xhat[i*C+k])
				ln.DB[k] += float32(dy[i*C+k])
			}
		}
	}
	return dx
}

// gelu is BERT's exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)), and its derivative.
func gelu(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }

func geluGrad(x float64) float64 {
	return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
}
