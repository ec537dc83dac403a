package metrics

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The NLTK check scores a shared, pre-tokenized sample with this package
// and compares with NLTK 3.8's corpus_bleu and corpus_nist on the same
// token lists (testdata/README.md: how the NLTK numbers were made).

const (
	nltkSamplePath   = "testdata/nltk-sample.json"
	nltkExpectedPath = "testdata/nltk-sample.expected.json"
	// nltkSampleMRs is the number of meaning representations in the sample.
	nltkSampleMRs = 40
	// nltkTol: the same formulas summed in a different order (Python's
	// fsum, ** 2, Counter order) differ from Go's by a few ulps.
	nltkTol = 1e-12
)

var updateNLTKSample = flag.Bool("update-nltk-sample", false, "rewrite "+nltkSamplePath+" from the shared E2E test split")

// nltkSample is testdata/nltk-sample.json: outputs and references as
// MtevalTokenize words.
type nltkSample struct {
	Rule       string       `json:"rule"`
	Hypotheses [][]string   `json:"hypotheses"`
	References [][][]string `json:"references"`
}

// nltkExpected is testdata/nltk-sample.expected.json, printed by NLTK.
type nltkExpected struct {
	NLTK       string  `json:"nltk_version"`
	Python     string  `json:"python_version"`
	CorpusBLEU float64 `json:"corpus_bleu"`
	CorpusNIST float64 `json:"corpus_nist"`
}

const nltkRule = "first 40 meaning representations of shared/data/e2e/test.txt (first-appearance order), " +
	"all their references; output for MR i (0-based): i even, its first reference without its last 3 words; " +
	"i odd, the first reference of MR i+1; all texts tokenized once by MtevalTokenize (lowercased)"

// buildNLTKSample builds the sample from the shared E2E test split by
// nltkRule, or skips when the split is absent.
func buildNLTKSample(tb testing.TB) nltkSample {
	tb.Helper()
	_, raw := e2eTest(tb)
	s := nltkSample{Rule: nltkRule}
	for i := range nltkSampleMRs {
		var group [][]string
		for _, r := range raw[i] {
			group = append(group, MtevalTokenize(r))
		}
		s.References = append(s.References, group)
		var h []string
		if i%2 == 0 {
			first := MtevalTokenize(raw[i][0])
			h = first[:len(first)-3]
		} else {
			h = MtevalTokenize(raw[i+1][0])
		}
		s.Hypotheses = append(s.Hypotheses, h)
	}
	return s
}

// encode writes s as JSON with one sentence per line.
func (s nltkSample) encode() []byte {
	var b bytes.Buffer
	line := func(indent string, words []string, last bool) {
		j, _ := json.Marshal(words)
		b.WriteString(indent + string(j) + comma(last))
	}
	rule, _ := json.Marshal(s.Rule)
	b.WriteString("{\n\"rule\": " + string(rule) + ",\n\"hypotheses\": [\n")
	for i, h := range s.Hypotheses {
		line(" ", h, i+1 == len(s.Hypotheses))
	}
	b.WriteString("],\n\"references\": [\n")
	for i, g := range s.References {
		b.WriteString(" [\n")
		for j, r := range g {
			line("  ", r, j+1 == len(g))
		}
		b.WriteString(" ]" + comma(i+1 == len(s.References)))
	}
	b.WriteString("]\n}\n")
	return b.Bytes()
}

// comma ends a JSON list element's line.
func comma(last bool) string {
	if last {
		return "\n"
	}
	return ",\n"
}

func readJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

// TestNLTKSampleFile checks that the committed sample is what nltkRule
// gives on the shared split (run with -update-nltk-sample to rewrite it).
func TestNLTKSampleFile(t *testing.T) {
	want := buildNLTKSample(t)
	if *updateNLTKSample {
		if err := os.WriteFile(nltkSamplePath, want.encode(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got nltkSample
	readJSON(t, nltkSamplePath, &got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s differs from nltkRule applied to the shared split; rerun with -update-nltk-sample", nltkSamplePath)
	}
}

// TestAgainstNLTK compares BLEU and NIST with NLTK 3.8 on the sample.
// BLEU follows the same convention (closest reference length, ties to the
// shorter; no smoothing needed as every order has matches) and must agree.
// NLTK's corpus_nist departs from mteval-v13a (testdata/README.md), so
// NIST is checked by recomputing it under NLTK's convention with this
// package's n-grams and information weights.
func TestAgainstNLTK(t *testing.T) {
	var s nltkSample
	var want nltkExpected
	readJSON(t, nltkSamplePath, &s)
	readJSON(t, nltkExpectedPath, &want)
	if len(s.Hypotheses) != len(s.References) || len(s.Hypotheses) != nltkSampleMRs {
		t.Fatalf("%s: %d outputs, %d reference groups, want %d each", nltkSamplePath, len(s.Hypotheses), len(s.References), nltkSampleMRs)
	}
	// Joined with spaces, the words must tokenize back to themselves, so
	// BLEU and NIST here see exactly NLTK's token lists.
	join := func(words []string) string {
		if got := MtevalTokenize(strings.Join(words, " ")); !reflect.DeepEqual(got, words) && len(words) > 0 {
			t.Fatalf("MtevalTokenize(%q) = %q, want the same words", strings.Join(words, " "), got)
		}
		return strings.Join(words, " ")
	}
	hyps := make([]string, len(s.Hypotheses))
	refs := make([][]string, len(s.References))
	for i := range hyps {
		hyps[i] = join(s.Hypotheses[i])
		for _, r := range s.References[i] {
			refs[i] = append(refs[i], join(r))
		}
	}

	bleu, err := BLEU(hyps, refs)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(bleu-want.CorpusBLEU) > nltkTol {
		t.Errorf("BLEU(sample) = %.17g, want NLTK's %.17g", bleu, want.CorpusBLEU)
	}
	nist, err := NIST(hyps, refs)
	if err != nil {
		t.Fatal(err)
	}
	if got := nistNLTKConvention(t, s.Hypotheses, s.References); math.Abs(got-want.CorpusNIST) > nltkTol {
		t.Errorf("nistNLTKConvention(sample) = %.17g, want NLTK's %.17g", got, want.CorpusNIST)
	}
	t.Logf("NLTK %s: corpus_bleu %.17g, corpus_nist %.17g; here: BLEU %.17g, NIST (mteval-v13a) %.17g; %d outputs with a closest-length tie",
		want.NLTK, want.CorpusBLEU, want.CorpusNIST, bleu, nist, closestTies(s))
}

// closestTies counts the outputs with two reference lengths equally close
// to their length (where the tie rule decides BLEU's brevity penalty).
func closestTies(s nltkSample) int {
	ties := 0
	for i, h := range s.Hypotheses {
		seen := map[int]bool{}
		for _, r := range s.References[i] {
			seen[len(r)] = true
		}
		for d := 1; d <= len(h); d++ {
			if seen[len(h)-d] && seen[len(h)+d] {
				ties++
				break
			}
		}
	}
	return ties
}

// nistNLTKConvention is NIST with NLTK 3.8's corpus_nist convention: for
// each output and each order n separately, the single reference with the
// largest (precision, matched information, output n-grams, length) tuple
// is chosen; matches are clipped by that reference alone, and the length
// penalty compares the summed output lengths with the summed lengths of
// the chosen references (one per output and order). Information weights
// are this package's; NLTK's lack mteval's "0"-prefix quirk, so the sample
// must not contain the word "0".
func nistNLTKConvention(tb testing.TB, hyps [][]string, refs [][][]string) float64 {
	tb.Helper()
	w := nistWeights{count: map[string]int{}}
	refGrams := make([][]map[string]int, len(refs))
	for i, group := range refs {
		for _, r := range group {
			if strings.Contains(" "+strings.Join(r, " ")+" ", " 0 ") {
				tb.Fatalf("reference %q has the word 0: mteval's and NLTK's weights differ", r)
			}
			refGrams[i] = append(refGrams[i], w.add(r))
		}
	}
	var num [nistN + 1]float64
	var den [nistN + 1]int
	refLen, hypLen := 0, 0
	for n := 1; n <= nistN; n++ {
		for i, h := range hyps {
			// Output n-grams in order of first appearance, as NLTK's
			// Counter sums them, so equal precisions tie exactly.
			var grams []string
			count := map[string]int{}
			for k := 0; k+n <= len(h); k++ {
				g := strings.Join(h[k:k+n], " ")
				if count[g] == 0 {
					grams = append(grams, g)
				}
				count[g]++
			}
			total := max(0, len(h)-n+1)
			type choice struct {
				prec, num float64
				len       int
			}
			best := choice{prec: -1}
			for j, rg := range refGrams[i] {
				c := choice{len: len(refs[i][j])}
				for _, g := range grams {
					if m := min(count[g], rg[g]); m > 0 {
						c.num += w.info(g) * float64(m)
					}
				}
				if total > 0 {
					c.prec = c.num / float64(total)
				}
				if c.prec > best.prec || c.prec == best.prec && (c.num > best.num || c.num == best.num && c.len > best.len) {
					best = c
				}
			}
			num[n] += best.num
			den[n] += total
			refLen += best.len
			hypLen += len(h)
		}
	}
	var score float64
	for n := 1; n <= nistN; n++ {
		score += num[n] / float64(den[n])
	}
	return score * nistPenalty(float64(hypLen)/float64(refLen))
}
