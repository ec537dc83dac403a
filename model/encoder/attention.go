package encoder

import "math"

// attnCache keeps the attention probabilities for the backward pass.
type attnCache struct {
	q, k, v []float64 // (n,H)
	p       []float64 // (heads,n,n)
}

// attention is bidirectional multi-head softmax attention over the tokens
// whose keep is true, scaled by 1/√headDim.
//
//	q, k, v (n,H) -> ctx (n,H); p (heads,n,n)
func attention(q, k, v []float64, n, heads, hd int, keep []bool, c *attnCache) []float64 {
	H := heads * hd
	ctx := make([]float64, n*H)
	p := make([]float64, heads*n*n)
	scale := 1 / math.Sqrt(float64(hd))
	for h := range heads {
		for i := range n {
			row := p[(h*n+i)*n : (h*n+i+1)*n]
			qi := q[i*H+h*hd : i*H+(h+1)*hd]
			mx := math.Inf(-1)
			for j := range n {
				if !keep[j] {
					continue
				}
				kj := k[j*H+h*hd : j*H+(h+1)*hd]
				s := 0.0
				for d, x := range qi {
					s += x * kj[d]
				}
				row[j] = s * scale
				mx = max(mx, row[j])
			}
			sum := 0.0
			for j := range n {
				if keep[j] {
					row[j] = math.Exp(row[j] - mx)
					sum += row[j]
				}
			}
			ci := ctx[i*H+h*hd : i*H+(h+1)*hd]
			for j := range n {
				if !keep[j] {
					continue
				}
				row[j] /= sum
				vj := v[j*H+h*hd : j*H+(h+1)*hd]
				for d := range ci {
					ci[d] += row[j] * vj[d]
				}
			}
		}
	}
	if c != nil {
		*c = attnCache{q: q, k: k, v: v, p: p}
	}
	return ctx
}

// attentionBackward returns dq, dk, dv.
//
//	dctx (n,H) -> dq, dk, dv (n,H)
func attentionBackward(dctx []float64, n, heads, hd int, c *attnCache) (dq, dk, dv []float64) {
	H := heads * hd
	dq, dk, dv = make([]float64, n*H), make([]float64, n*H), make([]float64, n*H)
	scale := 1 / math.Sqrt(float64(hd))
	dp := make([]float64, n)
	for h := range heads {
		for i := range n {
			row := c.p[(h*n+i)*n : (h*n+i+1)*n]
			di := dctx[i*H+h*hd : i*H+(h+1)*hd]
			dot := 0.0
			for j := range n {
				if row[j] == 0 {
					dp[j] = 0
					continue
				}
				vj := c.v[j*H+h*hd : j*H+(h+1)*hd]
				dvj := dv[j*H+h*hd : j*H+(h+1)*hd]
				s := 0.0
				for d, x := range di {
					s += x * vj[d]
					dvj[d] += row[j] * x
				}
				dp[j] = s
				dot += row[j] * s
			}
			qi := c.q[i*H+h*hd : i*H+(h+1)*hd]
			dqi := dq[i*H+h*hd : i*H+(h+1)*hd]
			for j := range n {
				if row[j] == 0 {
					continue
				}
				ds := row[j] * (dp[j] - dot) * scale
				kj := c.k[j*H+h*hd : j*H+(h+1)*hd]
				dkj := dk[j*H+h*hd : j*H+(h+1)*hd]
				for d := range qi {
					dqi[d] += ds * kj[d]
					dkj[d] += ds * qi[d]
				}
			}
		}
	}
	return dq, dk, dv
}
