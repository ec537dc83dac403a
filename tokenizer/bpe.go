package tokenizer

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// bpe is GPT-2's byte-level BPE encoder. It works on token ids: a word
// starts as one token per byte, and a merge rule (left, right) -> merged
// is looked up by the pair of ids.
type bpe struct {
	v *Vocab
	// byteID[b] is the token of byte b's character (-1 when missing).
	byteID [256]int32
	// merges maps a pair of ids to the rule's rank and the merged id.
	merges map[[2]int32]mergeRule
	// cache memoises the encoding of common words.
	cache *wordCache
	// bytes holds each token's decoded bytes.
	bytes []string
}

type mergeRule struct{ rank, id int32 }

func newBPE(v *Vocab) (*bpe, error) {
	idx := v.index()
	e := &bpe{v: v, merges: make(map[[2]int32]mergeRule, len(v.Merges)), cache: newWordCache()}
	for b := range e.byteID {
		e.byteID[b] = -1
		if id, ok := idx[byteToUTF8[b]]; ok {
			e.byteID[b] = int32(id)
		}
	}
	e.bytes = make([]string, len(v.Tokens))
	var buf []byte
	for id, t := range v.Tokens {
		buf = byteLevelDecode(buf[:0], t)
		e.bytes[id] = string(buf)
	}
	for rank, m := range v.Merges {
		l, r, ok := splitMerge(m)
		if !ok {
			return nil, fmt.Errorf("tokenizer: merge %d %q is not two tokens separated by a space: %w", rank, m, format.ErrFormat)
		}
		li, lok := idx[l]
		ri, rok := idx[r]
		mi, mok := idx[l+r]
		if !lok || !rok || !mok {
			// A rule whose parts or result are not tokens can never
			// produce a token; llama.cpp would emit its bytes instead.
			continue
		}
		key := [2]int32{int32(li), int32(ri)}
		if _, dup := e.merges[key]; !dup {
			e.merges[key] = mergeRule{int32(rank), int32(mi)}
		}
	}
	return e, nil
}

// splitMerge splits "left right" at its first space after the first byte
// (a token may itself be a lone space in hand-made vocabularies).
func splitMerge(m string) (string, string, bool) {
	if len(m) < 3 {
		return "", "", false
	}
	i := strings.IndexByte(m[1:], ' ')
	if i < 0 || i+2 >= len(m) {
		return "", "", false
	}
	return m[:i+1], m[i+2:], true
}

// encode appends the tokens of text (no special-token handling) to ids.
func (e *bpe) encode(ids []int, text string) []int {
	var scratch []int32
	splitGPT2(text, func(word string) {
		if cached, ok := e.cache.get(word); ok {
			ids = append(ids, cached...)
			return
		}
		n := len(ids)
		ids, scratch = e.encodeWord(ids, scratch, word)
		e.cache.put(word, ids[n:])
	})
	return ids
}

// encodeWord merges the bytes of one pre-token: repeatedly the adjacent
// pair whose rule has the lowest rank (leftmost on ties), as llama.cpp's
// llm_tokenizer_bpe_session does. Words are short, so a linear scan for the
// best pair beats a heap.
func (e *bpe) encodeWord(ids []int, sym []int32, word string) ([]int, []int32) {
	sym = sym[:0]
	for i := 0; i < len(word); i++ {
		id := e.byteID[word[i]]
		if id < 0 {
			id = int32(e.v.UNK) // a vocabulary without this byte
		}
		sym = append(sym, id)
	}
	for len(sym) > 1 {
		best, at := mergeRule{rank: -1}, -1
		for i := 0; i+1 < len(sym); i++ {
			r, ok := e.merges[[2]int32{sym[i], sym[i+1]}]
			if ok && (at < 0 || r.rank < best.rank) {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		// Merge every occurrence of this pair, left to right, as
		// successive pops of equal-rank bigrams would.
		left, right := sym[at], sym[at+1]
		out := sym[:at]
		for i := at; i < len(sym); i++ {
			if i+1 < len(sym) && sym[i] == left && sym[i+1] == right {
				out = append(out, best.id)
				i++
			} else {
				out = append(out, sym[i])
			}
		}
		sym = out
	}
	for _, id := range sym {
		if id >= 0 {
			ids = append(ids, int(id))
		}
	}
	return ids, sym
}

// decode appends the bytes of token id to dst.
func (e *bpe) decode(dst []byte, id int) []byte {
	return append(dst, e.bytes[id]...)
}
