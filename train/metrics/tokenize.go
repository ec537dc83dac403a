package metrics

import (
	"strings"
	"unicode"
)

// MtevalTokenize splits text into words as mteval-v13a.pl's default
// (non-international) tokenization does, lowercasing ASCII letters as it
// does without -c:
//
//	strip "<skipped>", join "-\n", newlines to spaces, &quot; &amp; &lt; &gt;
//	lowercase A-Z
//	s/([\{-\~\[-\` -\&\(-\+\:-\@\/])/ $1 /g     punctuation and symbols
//	s/([^0-9])([\.,])/$1 $2 /g                  period and comma unless after a digit
//	s/([\.,])([^0-9])/ $1 $2/g                  ... unless before a digit
//	s/([0-9])(-)/$1 $2 /g                       dash after a digit
//	split on whitespace
//
// The character classes are ASCII, so working on bytes gives the same
// result as Perl's characters.
func MtevalTokenize(text string) []string {
	s := strings.ReplaceAll(text, "<skipped>", "")
	s = strings.ReplaceAll(s, "-\n", "")
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "&quot;", `"`)
	s = strings.ReplaceAll(s, "&amp;", "&")
	s = strings.ReplaceAll(s, "&lt;", "<")
	s = strings.ReplaceAll(s, "&gt;", ">")

	var b strings.Builder
	b.Grow(2*len(s) + 2)
	b.WriteByte(' ')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if mtevalPunct(c) {
			b.WriteByte(' ')
			b.WriteByte(c)
			b.WriteByte(' ')
		} else {
			b.WriteByte(c)
		}
	}
	b.WriteByte(' ')
	s = b.String()
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	isPC := func(c byte) bool { return c == '.' || c == ',' }
	s = subPairs(s, func(a, c byte) bool { return !isDigit(a) && isPC(c) }, "%a %b ")
	s = subPairs(s, func(a, c byte) bool { return isPC(a) && !isDigit(c) }, " %a %b")
	s = subPairs(s, func(a, c byte) bool { return isDigit(a) && c == '-' }, "%a %b ")
	return strings.FieldsFunc(s, unicode.IsSpace) // Perl's \s on character strings
}

// mtevalPunct is the class [\{-\~\[-\` -\&\(-\+\:-\@\/]: { | } ~ [ \ ] ^ _ `
// space ! " # $ % & ( ) * + : ; < = > ? @ /.
func mtevalPunct(c byte) bool {
	return ('{' <= c && c <= '~') || ('[' <= c && c <= '`') || (' ' <= c && c <= '&') ||
		('(' <= c && c <= '+') || (':' <= c && c <= '@') || c == '/'
}

// subPairs does Perl's s/(A)(B)/repl/g for single-byte classes: scanning
// left to right, each match of two bytes is replaced ("%a", "%b" stand for
// them) and the scan resumes after it.
func subPairs(s string, match func(a, b byte) bool, repl string) string {
	var out strings.Builder
	out.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); {
		if i+1 < len(s) && match(s[i], s[i+1]) {
			for j := 0; j < len(repl); j++ {
				switch {
				case repl[j] == '%' && j+1 < len(repl) && repl[j+1] == 'a':
					out.WriteByte(s[i])
					j++
				case repl[j] == '%' && j+1 < len(repl) && repl[j+1] == 'b':
					out.WriteByte(s[i+1])
					j++
				default:
					out.WriteByte(repl[j])
				}
			}
			i += 2
			continue
		}
		out.WriteByte(s[i])
		i++
	}
	return out.String()
}

// cocoPunct are the tokens pycocoevalcap's PTBTokenizer wrapper removes
// (brackets and quotes as PTB writes them: -LRB-, “, ” ...).
var cocoPunct = map[string]bool{
	"''": true, "'": true, "``": true, "`": true, `"`: true,
	"(": true, ")": true, "{": true, "}": true, "-lrb-": true, "-rrb-": true, "-lcb-": true, "-rcb-": true,
	".": true, "?": true, "!": true, ",": true, ":": true, "-": true, "--": true, "...": true, ";": true,
}

// CocoTokenize approximates pycocoevalcap's tokenization (Stanford
// PTBTokenizer -lowerCase, then punctuation tokens removed) for text that
// is already tokenized like the E2E references: lowercase, split on
// whitespace, split a final period, comma, colon, semicolon, question or
// exclamation mark off a word, drop punctuation tokens; [ and ] become
// -lsb- and -rsb- as PTB writes them.
func CocoTokenize(text string) []string {
	var out []string
	for _, w := range strings.Fields(strings.ToLower(text)) {
		if len(w) > 1 && strings.ContainsRune(".,:;?!", rune(w[len(w)-1])) && w != "..." && w != "--" {
			w = w[:len(w)-1]
		}
		switch w {
		case "[":
			w = "-lsb-"
		case "]":
			w = "-rsb-"
		}
		if !cocoPunct[w] {
			out = append(out, w)
		}
	}
	return out
}
