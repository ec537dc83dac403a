package encoder

import "math"

// relTerms are DeBERTa's disentangled attention terms for one layer: the
// relative-position embeddings projected by the layer's own query and key
// projections (share_att_key), pq and pk (2·span, H), and the bucket index
// idx[i·n+j] ∈ [0, 2·span) of each query/key pair. c2p adds q_i·pk[idx],
// p2c adds k_j·pq[idx] to the score of (i, j).
type relTerms struct {
	pq, pk   []float64
	idx      []int
	c2p, p2c bool
}

// scaleFactor is DeBERTa's 1 + number of position terms (scores are
// divided by √(headDim·scaleFactor)); 1 without relative terms.
func (r *relTerms) scaleFactor() float64 {
	f := 1.0
	if r != nil && r.c2p {
		f++
	}
	if r != nil && r.p2c {
		f++
	}
	return f
}

// attnCache keeps the attention probabilities for the backward pass.
type attnCache struct {
	q, k, v []float64 // (n,H)
	p       []float64 // (heads,n,n)
	rel     *relTerms
}

// attention is bidirectional multi-head softmax attention over the tokens
// whose keep is true, scaled by 1/√(headDim·scaleFactor), with DeBERTa's
// relative terms when rel is not nil.
//
//	q, k, v (n,H) -> ctx (n,H); p (heads,n,n)
func attention(q, k, v []float64, n, heads, hd int, keep []bool, rel *relTerms, c *attnCache) []float64 {
	H := heads * hd
	ctx := make([]float64, n*H)
	p := make([]float64, heads*n*n)
	scale := 1 / math.Sqrt(float64(hd)*rel.scaleFactor())
	for h := range heads {
		lo, hi := h*hd, (h+1)*hd
		for i := range n {
			row := p[(h*n+i)*n : (h*n+i+1)*n]
			qi := q[i*H+lo : i*H+hi]
			mx := math.Inf(-1)
			for j := range n {
				if !keep[j] {
					continue
				}
				kj := k[j*H+lo : j*H+hi]
				s := dot(qi, kj)
				if rel != nil {
					r := rel.idx[i*n+j] * H
					if rel.c2p {
						s += dot(qi, rel.pk[r+lo:r+hi])
					}
					if rel.p2c {
						s += dot(kj, rel.pq[r+lo:r+hi])
					}
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
			ci := ctx[i*H+lo : i*H+hi]
			for j := range n {
				if !keep[j] {
					continue
				}
				row[j] /= sum
				vj := v[j*H+lo : j*H+hi]
				for d := range ci {
					ci[d] += row[j] * vj[d]
				}
			}
		}
	}
	if c != nil {
		*c = attnCache{q: q, k: k, v: v, p: p, rel: rel}
	}
	return ctx
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// attentionBackward returns dq, dk, dv and, with relative terms, d(pq)
// and d(pk) (2·span, H).
//
//	dctx (n,H) -> dq, dk, dv (n,H); dpq, dpk (2·span,H)
func attentionBackward(dctx []float64, n, heads, hd int, c *attnCache) (dq, dk, dv, dpq, dpk []float64) {
	H := heads * hd
	dq, dk, dv = make([]float64, n*H), make([]float64, n*H), make([]float64, n*H)
	rel := c.rel
	if rel != nil {
		dpq, dpk = make([]float64, len(rel.pq)), make([]float64, len(rel.pk))
	}
	scale := 1 / math.Sqrt(float64(hd)*rel.scaleFactor())
	dp := make([]float64, n)
	for h := range heads {
		lo, hi := h*hd, (h+1)*hd
		for i := range n {
			row := c.p[(h*n+i)*n : (h*n+i+1)*n]
			di := dctx[i*H+lo : i*H+hi]
			sum := 0.0
			for j := range n {
				if row[j] == 0 {
					dp[j] = 0
					continue
				}
				vj := c.v[j*H+lo : j*H+hi]
				dvj := dv[j*H+lo : j*H+hi]
				for d, x := range di {
					dvj[d] += row[j] * x
				}
				dp[j] = dot(di, vj)
				sum += row[j] * dp[j]
			}
			qi := c.q[i*H+lo : i*H+hi]
			dqi := dq[i*H+lo : i*H+hi]
			for j := range n {
				if row[j] == 0 {
					continue
				}
				ds := row[j] * (dp[j] - sum) * scale
				kj := c.k[j*H+lo : j*H+hi]
				dkj := dk[j*H+lo : j*H+hi]
				for d := range qi {
					dqi[d] += ds * kj[d]
					dkj[d] += ds * qi[d]
				}
				if rel == nil {
					continue
				}
				r := rel.idx[i*n+j] * H
				if rel.c2p {
					pk, dpkr := rel.pk[r+lo:r+hi], dpk[r+lo:r+hi]
					for d := range qi {
						dqi[d] += ds * pk[d]
						dpkr[d] += ds * qi[d]
					}
				}
				if rel.p2c {
					pq, dpqr := rel.pq[r+lo:r+hi], dpq[r+lo:r+hi]
					for d := range kj {
						dkj[d] += ds * pq[d]
						dpqr[d] += ds * kj[d]
					}
				}
			}
		}
	}
	return dq, dk, dv, dpq, dpk
}
