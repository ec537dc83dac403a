package glue

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model/encoder"
)

// Tokenizer turns text into token ids, without special tokens.
type Tokenizer interface {
	Encode(text string) []int
}

// Framing puts an example's token ids between the encoder's special
// tokens: BERT's [CLS] a [SEP] b [SEP] with token types 0 then 1, or
// RoBERTa's <s> a </s></s> b </s> with types 0. Pairs longer than MaxLen
// are cut longest-first, as transformers' truncation=True does.
type Framing struct {
	CLS, SEP int
	RoBERTa  bool
	MaxLen   int
}

// Sequence frames one example.
func (f Framing) Sequence(tok Tokenizer, ex Example, pair bool) encoder.Sequence {
	a := tok.Encode(ex.A)
	var b []int
	if pair {
		b = tok.Encode(ex.B)
	}
	special := 2
	if pair {
		special = 3
		if f.RoBERTa {
			special = 4
		}
	}
	for f.MaxLen > 0 && len(a)+len(b)+special > f.MaxLen && len(a)+len(b) > 0 {
		if len(a) >= len(b) {
			a = a[:len(a)-1]
		} else {
			b = b[:len(b)-1]
		}
	}
	ids := append([]int{f.CLS}, a...)
	ids = append(ids, f.SEP)
	nA := len(ids)
	if pair {
		if f.RoBERTa {
			ids = append(ids, f.SEP)
		}
		ids = append(append(ids, b...), f.SEP)
	}
	types := make([]int, len(ids))
	if !f.RoBERTa {
		for i := nA; i < len(ids); i++ {
			types[i] = 1
		}
	}
	return encoder.Sequence{IDs: ids, Types: types}
}

// Examples frames a task's rows as encoder examples.
func (t *Task) Examples(rows []Example, tok Tokenizer, f Framing) []encoder.Example {
	out := make([]encoder.Example, len(rows))
	for i, r := range rows {
		out[i] = encoder.Example{Seq: f.Sequence(tok, r, t.B != ""), Label: r.Label, Target: r.Target}
	}
	return out
}

// WordVocab is a word-level tokenizer built from a training split, for
// encoders trained from scratch (tiny random models) that come without a
// tokenizer: lower-cased words and single punctuation marks, the most
// frequent first (ties in byte order), from id First on; other words are
// Unk.
type WordVocab struct {
	ids        map[string]int
	First, Unk int
}

// Words splits text as WordVocab does.
func Words(text string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'':
			cur.WriteRune(r)
		case unicode.IsSpace(r):
			flush()
		default:
			flush()
			out = append(out, string(r))
		}
	}
	flush()
	return out
}

// NewWordVocab builds the vocabulary of rows' texts with ids First ..
// size-1; unk is the id of unknown words.
func NewWordVocab(rows []Example, size, first, unk int) (*WordVocab, error) {
	if first < 0 || first >= size {
		return nil, fmt.Errorf("glue: word vocabulary of %d ids starting at %d: %w", size, first, format.ErrFormat)
	}
	count := map[string]int{}
	for _, r := range rows {
		for _, w := range append(Words(r.A), Words(r.B)...) {
			count[w]++
		}
	}
	words := make([]string, 0, len(count))
	for w := range count {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool {
		if count[words[i]] != count[words[j]] {
			return count[words[i]] > count[words[j]]
		}
		return words[i] < words[j]
	})
	v := &WordVocab{ids: map[string]int{}, First: first, Unk: unk}
	for i, w := range words {
		if first+i >= size {
			break
		}
		v.ids[w] = first + i
	}
	return v, nil
}

// Encode maps text's words to ids.
func (v *WordVocab) Encode(text string) []int {
	ws := Words(text)
	out := make([]int, len(ws))
	for i, w := range ws {
		id, ok := v.ids[w]
		if !ok {
			id = v.Unk
		}
		out[i] = id
	}
	return out
}
