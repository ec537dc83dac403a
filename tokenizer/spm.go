package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// spaceMark is SentencePiece's visible space, "▁" (U+2581).
const spaceMark = "\u2581"

// spm is llama.cpp's SentencePiece-style BPE (llm_tokenizer_spm): the text
// starts as one symbol per UTF-8 character; the adjacent pair whose
// concatenation is the highest-scoring piece is merged (leftmost on ties)
// until no pair forms a piece; a symbol that is no piece is written as its
// bytes' <0xXX> tokens.
type spm struct {
	v   *Vocab
	idx map[string]int
	// byteID[b] is the token for byte b: <0xXX>, else the one-byte piece,
	// else unk (-1 when there is none).
	byteID [256]int32
	// words is set when no piece holds a "▁" right after another
	// character: then no merge can cross the start of a word, the text can
	// be encoded word by word (the same result, far less work) and words
	// can be cached.
	words bool
	cache *wordCache
}

func newSPM(v *Vocab) *spm {
	e := &spm{v: v, idx: v.index(), words: true, cache: newWordCache()}
	for _, t := range v.Tokens {
		if strings.Contains(strings.TrimLeft(t, spaceMark), spaceMark) {
			e.words = false
			break
		}
	}
	for b := range e.byteID {
		id, ok := e.idx[fmt.Sprintf("<0x%02X>", b)]
		if !ok {
			id, ok = e.idx[string([]byte{byte(b)})]
		}
		if !ok {
			id = v.UNK
		}
		e.byteID[b] = int32(id)
	}
	return e
}

// symbol is a span text[start:end] in a doubly linked list; a symbol merged
// into its left neighbour has start == end.
type symbol struct {
	start, end int
	prev, next int
}

// bigram is a candidate merge of symbols left and right (adjacent when it
// was made) into a piece of the given score; size is the byte length it had,
// so a stale candidate can be recognised.
type bigram struct {
	left, right int
	score       float32
	size        int
}

// bigramBefore orders the queue: higher score first, then leftmost.
func bigramBefore(a, b bigram) bool {
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

// escapeSpaces returns text with a leading space when prefix is set and every
// space replaced by "▁".
func escapeSpaces(text string, prefix bool) string {
	if prefix {
		text = " " + text
	}
	return strings.ReplaceAll(text, " ", spaceMark)
}

// encode appends the tokens of text (already escaped) to ids.
func (e *spm) encode(ids []int, text string) []int {
	sc := spmScratch{q: queue[bigram]{before: bigramBefore}}
	if !e.words {
		return e.encodeRun(ids, &sc, text)
	}
	for len(text) > 0 {
		end := wordEnd(text)
		word := text[:end]
		text = text[end:]
		if cached, ok := e.cache.get(word); ok {
			ids = append(ids, cached...)
			continue
		}
		n := len(ids)
		ids = e.encodeRun(ids, &sc, word)
		e.cache.put(word, ids[n:])
	}
	return ids
}

// wordEnd returns the end of the word at the start of text: a run of "▁",
// then everything up to the next "▁".
func wordEnd(text string) int {
	i := 0
	for strings.HasPrefix(text[i:], spaceMark) {
		i += len(spaceMark)
	}
	if j := strings.Index(text[i:], spaceMark); j >= 0 {
		return i + j
	}
	return len(text)
}

// spmScratch holds buffers reused across the words of one Encode call.
type spmScratch struct {
	syms []symbol
	q    queue[bigram]
}

// encodeRun merges one run of text with the SentencePiece algorithm.
func (e *spm) encodeRun(ids []int, sc *spmScratch, text string) []int {
	if text == "" {
		return ids
	}
	syms := sc.syms[:0]
	for i := 0; i < len(text); {
		// One symbol per character. llama.cpp sizes a character by its
		// lead byte alone, which lets an invalid byte swallow part of the
		// next character; here an invalid byte is a symbol of its own (the
		// same split for valid UTF-8), so every input decodes back exactly.
		_, n := utf8.DecodeRuneInString(text[i:])
		k := len(syms)
		syms = append(syms, symbol{start: i, end: i + n, prev: k - 1, next: k + 1})
		i += n
	}
	syms[len(syms)-1].next = -1
	sc.syms = syms

	q := &sc.q
	q.reset()
	try := func(left, right int) {
		if left < 0 || right < 0 {
			return
		}
		piece := text[syms[left].start:syms[right].end]
		id, ok := e.idx[piece]
		if !ok {
			return
		}
		q.push(bigram{left: left, right: right, score: e.v.Score(id), size: len(piece)})
	}
	for i := 1; i < len(syms); i++ {
		try(i-1, i)
	}
	for q.len() > 0 {
		b := q.pop()
		l, r := &syms[b.left], &syms[b.right]
		if l.start == l.end || r.start == r.end || (l.end-l.start)+(r.end-r.start) != b.size {
			continue // one side was merged since this candidate was made
		}
		l.end = r.end
		r.start = r.end
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = b.left
		}
		try(l.prev, b.left)
		try(b.left, l.next)
	}
	for i := 0; i >= 0; i = syms[i].next {
		piece := text[syms[i].start:syms[i].end]
		if id, ok := e.idx[piece]; ok {
			ids = append(ids, id)
			continue
		}
		for j := 0; j < len(piece); j++ {
			if id := e.byteID[piece[j]]; id >= 0 {
				ids = append(ids, int(id))
			}
		}
	}
	return ids
}

// decode appends the text of a normal, byte or unknown token to dst: "▁"
// becomes a space, a byte token its byte, unk "▅" (as llama.cpp prints it).
func (e *spm) decode(dst []byte, id int) []byte {
	t := e.v.Tokens[id]
	switch e.v.Type(id) {
	case Byte:
		if b, ok := parseByteToken(t); ok {
			return append(dst, b)
		}
	case Unknown:
		return append(dst, "\u2585"...)
	}
	return append(dst, strings.ReplaceAll(t, spaceMark, " ")...)
}

// parseByteToken reads "<0xXX>".
func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || t[:3] != "<0x" || t[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexDigit(t[3])
	lo, ok2 := hexDigit(t[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
