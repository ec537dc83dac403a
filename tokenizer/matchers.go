package tokenizer

import (
	"sort"
	"unicode/utf8"
)

// Hand-written matchers for the pre-tokenizer regexes of today's models.
// Each follows the regex's leftmost-first alternation and backtracking, as
// Oniguruma (Hugging Face tokenizers) runs it; \s is Unicode White_Space,
// \p{..} the Unicode general categories of Go's tables.

// isOther: [^\s\p{L}\p{N}]; isOtherM: [^\s\p{L}\p{M}\p{N}].
func isOther(c charCat) bool  { return c&(catSpace|catL|catN) == 0 }
func isOtherM(c charCat) bool { return c&(catSpace|catL|catM|catN) == 0 }

// runWhile returns the end of the run of characters from s[i] whose
// properties satisfy ok.
func runWhile(s string, i int, ok func(charCat) bool) int {
	for i < len(s) {
		c, w := catAt(s, i)
		if !ok(c) {
			break
		}
		i += w
	}
	return i
}

func isLetter(c charCat) bool  { return c&catL != 0 }
func isNumber(c charCat) bool  { return c&catN != 0 }
func isSpace(c charCat) bool   { return c&catSpace != 0 }
func isCRLF(c charCat) bool    { return c&catCRLF != 0 }
func isUpper(c charCat) bool   { return c&catUpper != 0 }
func isLower(c charCat) bool   { return c&catLower != 0 }
func isLetterM(c charCat) bool { return c&(catL|catM) != 0 }
func isPS(c charCat) bool      { return c&(catP|catS) != 0 }

// contraction returns the length of "'s|'t|'re|'ve|'m|'ll|'d" at s[i]
// (ASCII case-insensitive when fold), 0 when none.
func contraction(s string, i int, fold bool) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return 0
	}
	lower := func(c byte) byte {
		if fold && c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	switch lower(s[i+1]) {
	case 's', 't', 'm', 'd':
		return 2
	}
	if i+2 < len(s) {
		switch string([]byte{lower(s[i+1]), lower(s[i+2])}) {
		case "re", "ve", "ll":
			return 3
		}
	}
	return 0
}

// matchSpaces matches the pattern's tail "\s+(?!\S)|\s+" at a white-space
// character s[i] (with "\s*[\r\n]+" first when crlf): the run up to its
// last line break; else the whole run at the end of s, the run less its
// last character before other text, or the single character.
func matchSpaces(s string, i int, crlf bool) int {
	j, last, afterNL := i, i, -1
	for j < len(s) {
		c, w := catAt(s, j)
		if !isSpace(c) {
			break
		}
		if isCRLF(c) {
			afterNL = j + w
		}
		last = j
		j += w
	}
	switch {
	case crlf && afterNL > 0:
		return afterNL
	case j == len(s) || last == i:
		return j
	}
	return last
}

// matchGPT2 is GPT-2's pattern (ByteLevel's use_regex):
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func matchGPT2(s string, i int) (int, int) {
	if n := contraction(s, i, false); n > 0 {
		return i + n, 0
	}
	c, _ := catAt(s, i)
	p := i
	if s[i] == ' ' && i+1 < len(s) {
		if c1, _ := catAt(s, i+1); !isSpace(c1) {
			p, c = i+1, c1
		}
	}
	switch {
	case isLetter(c):
		return runWhile(s, p, isLetter), 0
	case isNumber(c):
		return runWhile(s, p, isNumber), 0
	case !isSpace(c):
		return runWhile(s, p, isOther), 0
	}
	return matchSpaces(s, i, false), 0
}

// wordPattern is the family of patterns of Llama 3, Qwen2, Tekken and
// GPT-4o:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|WORD|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// where WORD is [^\r\n\p{L}\p{N}]?\p{L}+ (Llama 3, Qwen2), with marks
// [^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+ and punctuation [^\s\p{L}\p{M}\p{N}]
// (Qwen3.5), or with caseWords the two alternatives
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*
//
// each followed by an optional contraction with suffixContractions (GPT-4o,
// whose leading contraction alternative is then absent), and [\r\n/]*
// after punctuation with slash.
type wordPattern struct {
	contractions       bool
	caseWords          bool
	suffixContractions bool
	marks              bool
	digits             int
	slash              bool
}

func (p wordPattern) match(s string, i int) (int, int) {
	if p.contractions {
		if n := contraction(s, i, true); n > 0 {
			return i + n, 0
		}
	}
	c0, w0 := catAt(s, i)
	canPrefix := c0&(catCRLF|catL|catN) == 0 && i+w0 < len(s)
	if p.caseWords {
		if e := caseWord(s, i, c0, w0, canPrefix); e > 0 {
			if p.suffixContractions {
				e += contraction(s, e, true)
			}
			return e, 0
		}
	} else {
		word := isLetter
		if p.marks {
			word = isLetterM
		}
		if word(c0) {
			return runWhile(s, i, word), 0
		}
		if canPrefix {
			if c1, _ := catAt(s, i+w0); word(c1) {
				return runWhile(s, i+w0, word), 0
			}
		}
	}
	if isNumber(c0) {
		j := i + w0
		for n := 1; n < p.digits && j < len(s); n++ {
			c, w := catAt(s, j)
			if !isNumber(c) {
				break
			}
			j += w
		}
		return j, 0
	}
	// " ?[^\s\p{L}\p{N}]+[\r\n]*"
	other := isOther
	if p.marks {
		other = isOtherM
	}
	if j := matchPunct(s, i, c0, other, p.slash); j >= 0 {
		return j, 0
	}
	return matchSpaces(s, i, true), 0
}

// matchPunct matches " ?X+[\r\n]*" at s[i], whose character class is c0,
// for the class X given by in (the tail also takes '/' when slash); -1
// when X starts neither at s[i] nor after a space there.
func matchPunct(s string, i int, c0 charCat, in func(charCat) bool, slash bool) int {
	start := -1
	switch {
	case in(c0):
		start = i
	case s[i] == ' ' && i+1 < len(s):
		if c1, _ := catAt(s, i+1); in(c1) {
			start = i + 1
		}
	}
	if start < 0 {
		return -1
	}
	j := runWhile(s, start, in)
	for j < len(s) && (s[j] == '\r' || s[j] == '\n' || (slash && s[j] == '/')) {
		j++
	}
	return j
}

// caseWord matches the two caseWords alternatives at s[i] (0 when neither
// matches). The first, PREFIX? UPPER* LOWER+, backtracks: UPPER* takes the
// longest run, and LOWER+ must then start at its end or, giving characters
// back, at the last character of the run that is also LOWER.
func caseWord(s string, i int, c0 charCat, w0 int, canPrefix bool) int {
	starts := [2]int{i + w0, i}
	if !canPrefix {
		starts[0] = -1
	}
	for _, p := range starts { // UPPER* LOWER+
		if p < 0 {
			continue
		}
		j, lastLower := p, -1
		for j < len(s) {
			c, w := catAt(s, j)
			if !isUpper(c) {
				if isLower(c) {
					return runWhile(s, j, isLower)
				}
				break
			}
			if isLower(c) {
				lastLower = j + w
			}
			j += w
		}
		if lastLower > 0 {
			return lastLower
		}
	}
	for _, p := range starts { // UPPER+ LOWER*
		if p < 0 {
			continue
		}
		if c, _ := catAt(s, p); !isUpper(c) {
			continue
		}
		return runWhile(s, runWhile(s, p, isUpper), isLower)
	}
	return 0
}

// matchDeepSeekV3 is the third pattern of DeepSeek-V3's pre-tokenizer:
//
//	[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func matchDeepSeekV3(s string, i int) (int, int) {
	isASCIILetter := func(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }
	if b := s[i]; b < utf8.RuneSelf && asciiCats[b]&(catP|catS) != 0 && i+1 < len(s) && isASCIILetter(s[i+1]) {
		j := i + 1
		for j < len(s) && isASCIILetter(s[j]) {
			j++
		}
		return j, 0
	}
	c0, w0 := catAt(s, i)
	if c0&(catCRLF|catL|catP|catS) == 0 && i+w0 < len(s) {
		if c1, _ := catAt(s, i+w0); isLetterM(c1) {
			return runWhile(s, i+w0, isLetterM), 0
		}
	}
	if isLetterM(c0) {
		return runWhile(s, i, isLetterM), 0
	}
	if j := matchPunct(s, i, c0, isPS, false); j >= 0 {
		return j, 0
	}
	if isSpace(c0) {
		return matchSpaces(s, i, true), 0
	}
	return -1, i + w0
}

// runMatcher matches "\s?X+" (optSpace) or "X+" for a character class X,
// at most max characters of X when max > 0.
func runMatcher(in func(r rune, c charCat) bool, optSpace bool, max int) matcher {
	return func(s string, i int) (int, int) {
		r, w := runeAt(s, i)
		c, _ := catAt(s, i)
		p := i
		if !in(r, c) {
			if !optSpace || !isSpace(c) || i+w >= len(s) {
				return -1, i + w
			}
			r1, _ := runeAt(s, i+w)
			c1, _ := catAt(s, i+w)
			if !in(r1, c1) {
				return -1, i + w
			}
			p = i + w
		}
		n := 0
		for p < len(s) && (max <= 0 || n < max) {
			r, w := runeAt(s, p)
			c, _ := catAt(s, p)
			if !in(r, c) {
				break
			}
			p += w
			n++
		}
		return p, 0
	}
}

// matchTrailingSpace is "\s+$": the white space that ends s.
func matchTrailingSpace(s string, i int) (int, int) {
	j := runWhile(s, i, isSpace)
	if j == i {
		_, w := catAt(s, i)
		return -1, i + w
	}
	if j == len(s) {
		return j, 0
	}
	return -1, j
}

// runeRanges is a character class [a-bc...] of literal characters.
type runeRanges [][2]rune

// parseClass reads the body of a bracket expression made of literal
// characters and ranges (no escapes), as in "A-Za-zµ".
func parseClass(body string) runeRanges {
	rs := []rune(body)
	var out runeRanges
	for k := 0; k < len(rs); k++ {
		if k+2 < len(rs) && rs[k+1] == '-' {
			out = append(out, [2]rune{rs[k], rs[k+2]})
			k += 2
			continue
		}
		out = append(out, [2]rune{rs[k], rs[k]})
	}
	sort.Slice(out, func(a, b int) bool { return out[a][0] < out[b][0] })
	return out
}

func (rr runeRanges) has(r rune) bool {
	k := sort.Search(len(rr), func(k int) bool { return rr[k][1] >= r })
	return k < len(rr) && rr[k][0] <= r
}

// Byte-level steps. After a ByteLevel step Hugging Face splits the mapped
// text, in which every byte is one character (bytes_to_unicode); these
// matchers read s as bytes and class each byte by its mapped character.

// mappedCat is the properties of each byte's byte-level character.
var mappedCat = func() (t [256]charCat) {
	for b := range t {
		r, _ := utf8.DecodeRuneInString(byteToUTF8[b])
		t[b] = runeCat(r)
	}
	return t
}()

// mappedDigits is Digits after ByteLevel: \p{N} runs (each byte alone when
// individual).
func mappedDigits(individual bool) matcher {
	return func(s string, i int) (int, int) {
		if mappedCat[s[i]]&catN == 0 {
			return -1, i + 1
		}
		j := i + 1
		for !individual && j < len(s) && mappedCat[s[j]]&catN != 0 {
			j++
		}
		return j, 0
	}
}

// matchThreeDigits is "[0-9][0-9][0-9]", before or after ByteLevel (ASCII
// digits are their own bytes).
func matchThreeDigits(s string, i int) (int, int) {
	isDigit := func(b byte) bool { return b >= '0' && b <= '9' }
	if i+2 < len(s) && isDigit(s[i]) && isDigit(s[i+1]) && isDigit(s[i+2]) {
		return i + 3, 0
	}
	return -1, i + 1
}

// isPunctuation is Hugging Face's Punctuation pre-tokenizer class: ASCII
// punctuation (symbols such as $+<=>^`|~ included) or \p{P}.
func isPunctuation(r rune, c charCat) bool {
	if r < utf8.RuneSelf {
		return c&(catP|catS) != 0
	}
	return c&catP != 0
}
