package metrics

import (
	"math"
	"strings"
	"testing"
	"unicode"
)

func FuzzMtevalTokenize(f *testing.F) {
	for _, s := range []string{"Hello, World.", "20-25 £ 3.5", "&amp;&quot;<skipped>-\n", "\xff\xfe", "Café\u00a0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range append(MtevalTokenize(s), CocoTokenize(s)...) {
			if w == "" || strings.IndexFunc(w, unicode.IsSpace) >= 0 {
				t.Fatalf("tokenize(%q) gave token %q", s, w)
			}
		}
	})
}

// FuzzScores checks the ranges of every metric on arbitrary text: BLEU,
// ROUGE-L and METEOR in [0, 1], NIST and CIDEr finite and ≥ 0.
func FuzzScores(f *testing.F) {
	f.Add("the cat sat", "the cat sat on the mat", "a cat .", "x", "y")
	f.Add("", "", " ", "0 0 0", "0")
	f.Fuzz(func(t *testing.T, h1, r1, r2, h2, r3 string) {
		s, err := E2E([]string{h1, h2}, [][]string{{r1, r2}, {r3}})
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]float64{"BLEU": s.BLEU, "ROUGE-L": s.ROUGEL, "METEOR": s.METEORExact} {
			if !(v >= 0 && v <= 1+1e-12) {
				t.Fatalf("%s = %v outside [0, 1]", name, v)
			}
		}
		for name, v := range map[string]float64{"NIST": s.NIST, "CIDEr": s.CIDEr} {
			if !(v >= 0) || math.IsInf(v, 0) {
				t.Fatalf("%s = %v, want finite ≥ 0", name, v)
			}
		}
	})
}
