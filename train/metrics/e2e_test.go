package metrics

import (
	"bufio"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/internal/testshared"
)

// e2eTest reads ../shared/data/e2e/test.txt grouped by meaning
// representation (first-appearance order); testshared.Path skips only when
// ../shared is absent.
func e2eTest(tb testing.TB) (firsts []string, refs [][]string) {
	tb.Helper()
	f, err := os.Open(testshared.Path(tb, "data/e2e/test.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	index := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		mr, ref, ok := strings.Cut(sc.Text(), "||")
		if !ok {
			tb.Fatalf("line without ||: %q", sc.Text())
		}
		i, seen := index[mr]
		if !seen {
			i = len(refs)
			index[mr] = i
			refs = append(refs, nil)
			firsts = append(firsts, ref)
		}
		refs[i] = append(refs[i], ref)
	}
	return firsts, refs
}

// TestE2EReferenceAsOutput scores each group's first reference against the
// group (itself included): every n-gram matches and the closest reference
// is itself, so BLEU and ROUGE-L are exactly 1, and exact METEOR is
// 1 − 0.5·(630 chunks / total words)³.
func TestE2EReferenceAsOutput(t *testing.T) {
	hyps, refs := e2eTest(t)
	if len(refs) != 630 {
		t.Fatalf("test.txt has %d meaning representations, want 630 (PROVENANCE.md)", len(refs))
	}
	s, err := E2E(hyps, refs)
	if err != nil {
		t.Fatal(err)
	}
	words := 0
	for _, h := range hyps {
		words += len(CocoTokenize(h))
	}
	const tol = 1e-12 // sums of a few thousand terms
	if math.Abs(s.BLEU-1) > tol || math.Abs(s.ROUGEL-1) > tol {
		t.Errorf("BLEU, ROUGE-L = %v, %v, want 1, 1", s.BLEU, s.ROUGEL)
	}
	if want := 1 - 0.5*math.Pow(630/float64(words), 3); math.Abs(s.METEORExact-want) > tol {
		t.Errorf("METEORExact = %v, want %v", s.METEORExact, want)
	}
	if s.NIST <= 0 || s.CIDEr <= 0 {
		t.Errorf("NIST, CIDEr = %v, %v, want > 0", s.NIST, s.CIDEr)
	}
	t.Logf("first reference of each test MR as output: %+v", s)
}

func BenchmarkE2E(b *testing.B) {
	hyps, refs := e2eTest(b)
	n := 0
	for _, r := range refs {
		for _, x := range r {
			n += len(x)
		}
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := E2E(hyps, refs); err != nil {
			b.Fatal(err)
		}
	}
}
