package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// GPT-2's pre-tokenizer splits text with the pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// Go's regexp has no look-ahead, so splitGPT2 matches it by hand, the way
// llama.cpp's unicode_regex_split_custom_gpt2 does, including its one
// deviation from the regex: a code point with no Unicode category (and an
// invalid UTF-8 byte) is never part of a run and becomes a piece of its own.

// class is the character class the pattern distinguishes.
type class uint8

const (
	clsNone   class = iota // end of text, unassigned code point, invalid byte
	clsLetter              // \p{L}
	clsNumber              // \p{N}
	clsSpace               // \s (Unicode White_Space)
	clsOther               // anything else that is assigned
)

// assigned is every Unicode category Go knows; a code point in none of them
// is unassigned (Cn).
var assigned = []*unicode.RangeTable{unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs}

// classify returns the class and byte width of the character at s[i:]
// (clsNone, 0 at the end).
func classify(s string, i int) (class, int) {
	if i >= len(s) {
		return clsNone, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			return clsLetter, 1
		case c >= '0' && c <= '9':
			return clsNumber, 1
		case c == ' ', c >= '\t' && c <= '\r':
			return clsSpace, 1
		}
		return clsOther, 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && w == 1:
		return clsNone, 1
	case unicode.IsLetter(r):
		return clsLetter, w
	case unicode.IsNumber(r):
		return clsNumber, w
	case unicode.IsSpace(r):
		return clsSpace, w
	case unicode.IsOneOf(assigned, r):
		return clsOther, w
	}
	return clsNone, w
}

// splitGPT2 calls emit with each piece of s, in order; the pieces
// concatenate to s.
func splitGPT2(s string, emit func(piece string)) {
	for i := 0; i < len(s); {
		end := gpt2PieceEnd(s, i)
		emit(s[i:end])
		i = end
	}
}

// gpt2PieceEnd returns the end of the piece that starts at s[i].
func gpt2PieceEnd(s string, i int) int {
	if s[i] == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		}
		if i+2 < len(s) {
			switch s[i+1 : i+3] {
			case "re", "ve", "ll":
				return i + 3
			}
		}
	}
	cls, w := classify(s, i)
	// " ?X+": an optional space, then a run of one class.
	start, run := i, cls
	if s[i] == ' ' {
		if next, _ := classify(s, i+1); next == clsLetter || next == clsNumber || next == clsOther {
			start, run = i+1, next
		}
	}
	if run == clsLetter || run == clsNumber || run == clsOther {
		j := start
		for {
			c, cw := classify(s, j)
			if c != run {
				return j
			}
			j += cw
		}
	}
	if cls == clsSpace {
		// "\s+(?!\S)|\s+": the whole run of white space, less its last
		// character when more text follows (that character then prefixes
		// the next piece), unless the run is a single character.
		j, last := i, i
		for {
			c, cw := classify(s, j)
			if c != clsSpace {
				if j < len(s) && last > i {
					return last
				}
				return j
			}
			last = j
			j += cw
		}
	}
	return i + w
}
