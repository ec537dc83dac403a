package metrics

import (
	"errors"
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// handTol: the expected values below are closed forms evaluated in
// float64; only summation order separates them from the code's.
const handTol = 1e-12

type metricCase struct {
	name string
	hyps []string
	refs [][]string
	want float64
}

func runCases(t *testing.T, metric string, f func([]string, [][]string) (float64, error), cases []metricCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f(tc.hyps, tc.refs)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > handTol {
				t.Errorf("%s(%q, %q) = %.15g, want %.15g", metric, tc.hyps, tc.refs, got, tc.want)
			}
		})
	}
}

func TestBLEUHand(t *testing.T) {
	runCases(t, "BLEU", BLEU, []metricCase{
		// the cat sat on the mat / the cat sat on a mat: clipped matches
		// 5/6 (one "the" clipped), 3/5, 2/4, 1/3; equal lengths, BP 1.
		{"classic", []string{"the cat sat on the mat"}, [][]string{{"the cat sat on a mat"}},
			math.Pow(5.0/6*3.0/5*2.0/4*1.0/3, 0.25)},
		// "The cat." → the cat . (3 words); closest reference "a cat ." (3),
		// BP 1. p1 = 3/3 (the from ref 1), p2 = 2/2 ("the cat" ref 1,
		// "cat ." ref 2), p3 = 0/1 → smoothed 1/(2·1), no 4-grams → p4 = 1.
		{"smoothing", []string{"The cat."}, [][]string{{"the cat is here .", "a cat .", "the big cat sat down ."}},
			math.Pow(0.5, 0.25)},
		// 4 words against references of 5 and 3: a tie, the shorter (3)
		// wins, so BP = 1; all n-grams match.
		{"closest tie to shorter", []string{"a b c d"}, [][]string{{"a b c d e", "x y z"}}, 1},
		// 2 words against a 4-word reference: BP = exp(1 − 4/2) and
		// p1 = 2/2, p2 = 1/1, then no 3- or 4-grams (p = 1).
		{"brevity", []string{"a b"}, [][]string{{"a b c d"}}, math.Exp(-1)},
		// Corpus level: counts add before the ratios. Output 1 "a b" vs
		// "a b" (all match), output 2 "c d" vs "c e": p1 = 3/4, p2 = 1/2;
		// no 3-grams or 4-grams: BLEU = (3/4 · 1/2)^¼.
		{"corpus", []string{"a b", "c d"}, [][]string{{"a b"}, {"c e"}}, math.Pow(3.0/8, 0.25)},
		{"empty output", []string{""}, [][]string{{"a"}}, 0},
	})
}

func TestNISTHand(t *testing.T) {
	runCases(t, "NIST", NIST, []metricCase{
		// Reference "a b a": counts a 2, b 1, "a b" 1, "b a" 1, 3 words.
		// info(a) = log₂(3/2), info(b) = log₂ 3, info(a b) = log₂(2/1) = 1.
		// Output "a b": unigrams (log₂1.5 + log₂3)/2 = log₂(4.5)/2, bigram
		// 1/1. Length ratio 2/3 = 1/1.5, so BP = exp(−β ln²1.5) = 0.5.
		{"one pair", []string{"a b"}, [][]string{{"a b a"}}, (math.Log2(4.5)/2 + 1) * 0.5},
		// Two outputs, two and one references: mteval's two reference sets
		// give L̄ = 6 words / 2 = 3 = the output length (3): BP = 1.
		// info(a) = log₂(6/3) = 1, info(b) = 1, info(a b) = log₂(3/3) = 0.
		// Unigrams (1+1 + 1)/3 = 1, bigrams 0/1. (pymteval: L̄ = 2+2 = 4, BP < 1.)
		{"reference sets", []string{"a b", "a"}, [][]string{{"a b", "a b"}, {"a b"}}, 1},
		// No match at all scores 0.
		{"no match", []string{"x y"}, [][]string{{"a b"}}, 0},
	})
}

func TestROUGELHand(t *testing.T) {
	b2 := 1.2 * 1.2
	f := func(p, r float64) float64 { return (1 + b2) * p * r / (r + b2*p) }
	runCases(t, "ROUGEL", ROUGEL, []metricCase{
		// LCS 3 of a 3-word output and a 6-word reference: P 1, R 1/2.
		{"prefix", []string{"the cat sat"}, [][]string{{"the cat sat on the mat"}}, f(1, 0.5)},
		// P from one reference (LCS 4/4) and R from another (2/2): F = 1,
		// pycocoevalcap's max over P and R separately.
		{"max P and R separately", []string{"a b c d"}, [][]string{{"a b", "a b c d e f g h"}}, 1},
		// Punctuation is dropped before the LCS: "the mat ." vs "the mat".
		{"punctuation", []string{"The mat ."}, [][]string{{"the mat"}}, 1},
		// Averaged over outputs: (F(1, 1/2) + 0)/2.
		{"mean", []string{"the cat sat", "x"}, [][]string{{"the cat sat on the mat"}, {"y"}}, f(1, 0.5) / 2},
	})
}

func TestCIDErHand(t *testing.T) {
	runCases(t, "CIDEr", CIDEr, []metricCase{
		// N = 2 outputs, so idf = ln 2 for every reference n-gram (df 1)
		// and for unseen ones (df clamped to 1). Output 1 equals its
		// reference: orders 1 and 2 have cosine 1, orders 3-4 are empty (0):
		// 10·(1+1+0+0)/4 = 5. Output 2 shares nothing: 0. Mean 2.5.
		{"identical and disjoint", []string{"a b", "c d"}, [][]string{{"a b"}, {"e f"}}, 2.5},
		// Output "a b" vs reference "a b c": unigram cosine 2/(√2·√3),
		// bigram 1/(√2·1)·... = 1/√2, lengths (bigrams) 1 and 2: penalty
		// exp(−1/72). Output 2 scores 0.
		{"length penalty", []string{"a b", "x"}, [][]string{{"a b c"}, {"y"}},
			10 * (2/math.Sqrt(6) + 1/math.Sqrt2) * math.Exp(-1.0/72) / 4 / 2},
		// Clipping: "a a" against "a": tf·idf 2ln2 vs ln2, min·ref = (ln2)²,
		// norms 2ln2 and ln2: unigram 1/2; bigram "a a" unmatched; the
		// bigram lengths are 1 and 0: penalty exp(−1/72). With the
		// second output as before: 10·(1/2)·exp(−1/72)/4/2.
		{"clipping", []string{"a a", "x"}, [][]string{{"a"}, {"y"}}, 10 * 0.5 * math.Exp(-1.0/72) / 4 / 2},
	})
}

func TestMETEORExactHand(t *testing.T) {
	// Classic: Fmean = PR/(0.9P + 0.1R), Pen = 0.5·(chunks/m)³.
	fmean := func(p, r float64) float64 { return p * r / (0.9*p + 0.1*r) }
	meteor := func(h []string, r [][]string) (float64, error) { return METEORExact(h, r, ClassicMeteor) }
	runCases(t, "METEORExact", meteor, []metricCase{
		// All 6 words match in 2 chunks ("the cat sat" and "on the mat"):
		// P = R = 1, Pen = 0.5·(2/6)³ = 1/54.
		{"two chunks", []string{"the cat sat on the mat"}, [][]string{{"on the mat the cat sat"}}, 1 - 1.0/54},
		// 2 of 6 reference words, one chunk: P 1, R 1/3, Pen 0.5/8.
		{"partial", []string{"the cat"}, [][]string{{"the cat sat on the mat"}}, fmean(1, 1.0/3) * (1 - 0.5/8)},
		// Best reference kept per output: the second one matches fully
		// (1 chunk of 2: Pen 0.5/8).
		{"best reference", []string{"the cat"}, [][]string{{"a dog", "the cat"}}, 1 - 0.5/8},
		// Corpus: the first two cases summed: m 8, |h| 8, |r| 12, chunks 3.
		{"corpus", []string{"the cat sat on the mat", "the cat"},
			[][]string{{"on the mat the cat sat"}, {"the cat sat on the mat"}},
			fmean(1, 8.0/12) * (1 - 0.5*math.Pow(3.0/8, 3))},
		{"no match", []string{"x"}, [][]string{{"y"}}, 0},
	})
}

func TestBadInput(t *testing.T) {
	fs := map[string]func([]string, [][]string) (float64, error){
		"BLEU": BLEU, "NIST": NIST, "ROUGEL": ROUGEL, "CIDEr": CIDEr,
		"METEORExact": func(h []string, r [][]string) (float64, error) { return METEORExact(h, r, ClassicMeteor) },
	}
	cases := []struct {
		name string
		hyps []string
		refs [][]string
	}{
		{"count mismatch", []string{"a"}, [][]string{{"a"}, {"b"}}},
		{"empty corpus", nil, nil},
		{"no references", []string{"a"}, [][]string{{}}},
	}
	for name, f := range fs {
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				if _, err := f(tc.hyps, tc.refs); !errors.Is(err, format.ErrShape) {
					t.Errorf("%s(%q, %q) = %v, want ErrShape", name, tc.hyps, tc.refs, err)
				}
			})
		}
	}
}
