package metrics

import (
	"slices"
	"strings"
	"testing"
)

// TestMtevalTokenize applies mteval-v13a's regular expressions by hand.
func TestMtevalTokenize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hello, World.", "hello , world ."},                    // lowercase; comma and period split
		{"It costs 3.50 or 1,000.", "it costs 3.50 or 1,000 ."}, // digits keep . and , between them
		{"price 20-25", "price 20 - 25"},                        // dash after a digit
		{"family-friendly", "family-friendly"},                  // other dashes stay
		{"(x)/y", "( x ) / y"},                                  // brackets, slash
		{"it's £20", "it's £20"},                                // apostrophe and £ are not in the class
		{"a &amp; b &quot;c&quot;", `a & b " c "`},              // entities, then quotes split
		{"end..", "end . ."},                                    // s///g resumes after each match
		{"x.5", "x . 5"},                                        // after a non-digit: split before, and . stays before 5
		{"Café", "café"},                                        // ASCII-only lowercasing: é stays as is
		{"  <skipped>two\nlines  ", "two lines"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := strings.Join(MtevalTokenize(tc.in), " "); got != tc.want {
				t.Errorf("MtevalTokenize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCocoTokenize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"There is a place in the city centre , Alimentum , that is not family - friendly . ",
			"there is a place in the city centre alimentum that is not family friendly"},
		{"It 's near The Bakery.", "it 's near the bakery"},
		{"( cheap ) -- ok ...", "cheap ok"},
		{"[a]", "[a]"},
		{"[ a ]", "-lsb- a -rsb-"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := strings.Join(CocoTokenize(tc.in), " "); got != tc.want {
				t.Errorf("CocoTokenize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNgrams(t *testing.T) {
	got := ngrams([]string{"a", "b", "a"}, 2)
	want := map[string]int{"a": 2, "b": 1, "a b": 1, "b a": 1}
	if len(got) != len(want) {
		t.Fatalf("ngrams = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("ngrams[%q] = %d, want %d", k, got[k], v)
		}
	}
	if keys := slices.Sorted(func(yield func(string) bool) {
		for k := range got {
			if !yield(k) {
				return
			}
		}
	}); order(keys[1]) != 2 { // "a b"
		t.Errorf("order(%q) = %d, want 2", keys[1], order(keys[1]))
	}
}
