package metrics

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// check validates a corpus: one hypothesis per reference group, each group
// non-empty.
func check(hyps []string, refs [][]string) error {
	if len(hyps) != len(refs) {
		return fmt.Errorf("metrics: %d outputs for %d reference groups: %w", len(hyps), len(refs), format.ErrShape)
	}
	if len(hyps) == 0 {
		return fmt.Errorf("metrics: no outputs to score: %w", format.ErrShape)
	}
	for i, r := range refs {
		if len(r) == 0 {
			return fmt.Errorf("metrics: output %d has no references: %w", i, format.ErrShape)
		}
	}
	return nil
}

// ngrams counts the n-grams (n = 1..maxN) of words, keyed by the words
// joined with single spaces (as mteval's Words2Ngrams does). The keys are
// substrings of one joined string: no allocation per n-gram.
func ngrams(words []string, maxN int) map[string]int {
	c := make(map[string]int, len(words)*maxN)
	joined := strings.Join(words, " ")
	start := make([]int, len(words)+1) // start[i]: offset of word i; start[len]: len+1
	for i, w := range words {
		start[i+1] = start[i] + len(w) + 1
	}
	for i := range words {
		for n := 1; n <= maxN && i+n <= len(words); n++ {
			c[joined[start[i]:start[i+n]-1]]++
		}
	}
	return c
}

// order returns the n of an n-gram key.
func order(key string) int {
	n := 1
	for i := 0; i < len(key); i++ {
		if key[i] == ' ' {
			n++
		}
	}
	return n
}
