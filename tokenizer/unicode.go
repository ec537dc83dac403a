package tokenizer

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// charCat is a set of the Unicode properties the pre-tokenizer patterns test,
// one bit each.
type charCat uint16

const (
	catLu    charCat = 1 << iota // \p{Lu}
	catLl                        // \p{Ll}
	catLt                        // \p{Lt}
	catLm                        // \p{Lm}
	catLo                        // \p{Lo}
	catM                         // \p{M}
	catN                         // \p{N}
	catP                         // \p{P}
	catS                         // \p{S}
	catSpace                     // \s: Unicode White_Space
	catCRLF                      // [\r\n]

	catL = catLu | catLl | catLt | catLm | catLo
	// catUpper and catLower are the two letter classes of the Tekken and
	// GPT-4o patterns: [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and
	// [\p{Ll}\p{Lm}\p{Lo}\p{M}].
	catUpper = catLu | catLt | catLm | catLo | catM
	catLower = catLl | catLm | catLo | catM
)

var (
	bmpOnce  sync.Once
	bmpCats  []charCat // the properties of every code point below 0x10000
	catTable = []struct {
		c charCat
		t *unicode.RangeTable
	}{
		{catLu, unicode.Lu}, {catLl, unicode.Ll}, {catLt, unicode.Lt}, {catLm, unicode.Lm}, {catLo, unicode.Lo},
		{catM, unicode.M}, {catN, unicode.N}, {catP, unicode.P}, {catS, unicode.S}, {catSpace, unicode.White_Space},
	}
)

// runeCat computes the properties of r from the Unicode tables.
func runeCat(r rune) charCat {
	var c charCat
	for _, e := range catTable {
		if unicode.Is(e.t, r) {
			c |= e.c
		}
	}
	if r == '\r' || r == '\n' {
		c |= catCRLF
	}
	return c
}

func buildBMP() {
	t := make([]charCat, 0x10000)
	for r := range t {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		t[r] = runeCat(rune(r))
	}
	bmpCats = t
}

// catAt returns the properties and the byte width of the character at
// s[i] (i < len(s)). An invalid UTF-8 byte is a character of width 1 with
// no property, like an unassigned code point.
func catAt(s string, i int) (charCat, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return asciiCats[c], 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && w == 1 {
		return 0, 1
	}
	if r < 0x10000 {
		bmpOnce.Do(buildBMP)
		return bmpCats[r], w
	}
	return runeCat(r), w
}

// asciiCats holds the properties of the ASCII characters.
var asciiCats = func() (t [utf8.RuneSelf]charCat) {
	for r := range t {
		t[r] = runeCat(rune(r))
	}
	return t
}()

// runeAt decodes the character at s[i] (RuneError, 1 for an invalid byte).
func runeAt(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}
