package model

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// f16AttnTol bounds attentionF16's relative (2-norm) error against the
// float64 reference: F16 keeps 11 significant bits (unit roundoff 4.9e-4)
// and the accumulator is rounded at every key (measured up to 4e-4 here).
const f16AttnTol = 2e-3

func TestAttentionF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		cap    float32
		window int
	}{{0, 0}, {0.3, 0}, {0, 3}, {0.3, 4}} {
		t.Run(fmt.Sprintf("cap %v window %d", c.cap, c.window), func(t *testing.T) {
			s := attnShape{B: 2, T: 9, H: 4, KV: 2, hd: 8, scale: 0.35, cap: c.cap, window: c.window}
			s.ld = (s.H + 2*s.KV) * s.hd
			qkv := randVec(rng, s.B*s.T*s.ld, 0, 1)
			out := make([]float32, s.B*s.T*s.H*s.hd)
			attentionF16(out, qkv, s)
			e := relErr(out, attention64(to64(qkv), s))
			t.Logf("relative error %.3g", e)
			if e > f16AttnTol {
				t.Errorf("attentionF16 differs from the reference by %.3g", e)
			}
			// The first position attends to itself only: its output is its
			// own v, exactly, when v is representable in F16 (acc = v·1, sum = 1).
			for i := range qkv {
				qkv[i] = roundF16(qkv[i])
			}
			attentionF16(out, qkv, s)
			for h := range s.H {
				v := qkv[s.vOff()+(h/(s.H/s.KV))*s.hd:][:s.hd]
				for j, want := range v {
					if got := out[h*s.hd+j]; got != want {
						t.Fatalf("head %d, first position, out[%d] = %v, want v = %v", h, j, got, want)
					}
				}
			}
		})
	}
}
