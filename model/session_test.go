package model

import (
	"math"
	"testing"
)

// tolSession: a session's logits, fed the same tokens in other chunks
// (dot-product attention for chunks of up to gemvRows, GEMM above), differ
// only by float32 summation order.
const tolSession = 1e-5

// TestSessionChunks: for a tiny model of every recipe, decoding a prompt
// token by token, in uneven chunks, or in one batch gives the same
// last-position logits, and their cross-entropy equals the float64
// reference model's on that position (sliding windows, soft-caps and the
// final cap act in both attention paths).
func TestSessionChunks(t *testing.T) {
	const n = 11 // longer than every tiny window
	for _, tc := range tinyFamilies {
		t.Run(tc.name(), func(t *testing.T) {
			m, err := Load(tinySource(tc), Options{})
			if err != nil {
				t.Fatal(err)
			}
			b := tinyBatch(tc.vocab, 1, n, 11)
			for i := range b.Mask {
				b.Mask[i] = i == n-1
			}
			var first []float32
			for _, chunks := range [][]int{{n}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {3, 5, 2, 1}} {
				s := m.NewSession()
				var logits []float32
				at := 0
				for _, k := range chunks {
					if logits, err = s.Step(b.Tokens[at : at+k]); err != nil {
						t.Fatal(err)
					}
					at += k
				}
				if first == nil {
					first = logits
					continue
				}
				if d := maxAbsDiff(logits, first); d > tolSession {
					t.Errorf("chunks %v: logits differ from one batch by %.3g, want < %g", chunks, d, tolSession)
				}
			}
			z := make([]float64, len(first))
			for i, v := range first {
				z[i] = float64(v)
			}
			got, want := xent64(z, b.Targets[n-1], 0), refLoss(m, b, nil)
			if math.Abs(got-want) > 1e-5*math.Max(1, want) {
				t.Errorf("cross-entropy of Step's logits = %v, float64 reference %v", got, want)
			}
		})
	}
}
