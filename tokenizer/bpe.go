package tokenizer

import (
	"fmt"
	"strings"
	"sync"

	"github.com/lorakit/lorakit/format"
)

// bpe is byte-level BPE (GPT-2 and every model since that splits text with
// a pre-tokenizer and merges bytes by rank). It works on token ids: a
// pre-token starts as one token per byte, and a merge rule (left, right) ->
// merged is looked up by the pair of ids.
type bpe struct {
	v   *Vocab
	pre *pipeline
	// byteID[b] is the token of byte b's character (-1 when missing).
	byteID [256]int32
	// merges maps a pair of ids to the rule's rank and the merged id.
	merges *pairTable
	// whole maps the bytes of each normal token to its id, for
	// ignore_merges (nil without).
	whole map[string]int32
	// cache memoises the encoding of common words.
	cache *wordCache
	// bytes holds each token's decoded bytes.
	bytes []string
}

type mergeRule struct{ rank, id int32 }

func newBPE(v *Vocab, pre *pipeline, ignoreMerges bool) (*bpe, error) {
	idx := v.index()
	e := &bpe{v: v, pre: pre, merges: newPairTable(len(v.Merges)), cache: newWordCache()}
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
	if ignoreMerges {
		e.whole = make(map[string]int32, len(v.Tokens))
		for id, b := range e.bytes {
			if typ := v.Type(id); typ == Normal || typ == Undefined {
				e.whole[b] = int32(id)
			}
		}
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
		e.merges.put(int32(li), int32(ri), mergeRule{int32(rank), int32(mi)})
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

// bpeScratch holds the buffers of one encode call.
type bpeScratch struct {
	spans, tmp []span
	sym        []bpeSym
	q          queue[candidate]
}

// chunkSize is the size of the pieces a long text is split in, at
// boundaries no pre-tokenizer match crosses, so that the pre-tokenizer's
// buffers stay small.
const chunkSize = 32 << 10

// chunkEnd returns the end of the chunk of text that starts at 0: the
// first cut line start (see cutsAt) at or after chunkSize, else the end of
// the text.
func chunkEnd(text string) int {
	for i := chunkSize; i < len(text); {
		j := strings.IndexByte(text[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		if i < len(text) && cutsAt(text, i) {
			return i
		}
	}
	return len(text)
}

// cutsAt reports whether every known pre-tokenizer pattern cuts text at i,
// a line start: "\n" before i, then a character that is neither white
// space nor "/". White space runs end at their last line break, word
// prefixes and digit runs include none, and punctuation runs take line
// breaks after them only followed by more line breaks or, in GPT-4o's and
// Tekken's " ?[^\s\p{L}\p{N}]+[\r\n/]*", by "/" — so "!\n/" is one piece.
func cutsAt(text string, i int) bool {
	if i == 0 || i >= len(text) || text[i-1] != '\n' || text[i] == '/' {
		return false
	}
	c, _ := catAt(text, i)
	return !isSpace(c)
}

// scratchPool recycles encode buffers across calls (many short texts).
var scratchPool = sync.Pool{New: func() any { return &bpeScratch{q: queue[candidate]{before: candidateBefore}} }}

// encode appends the tokens of text (no special-token handling) to ids.
func (e *bpe) encode(ids []int, text string) []int {
	sc := scratchPool.Get().(*bpeScratch)
	defer scratchPool.Put(sc)
	for len(text) > 0 {
		end := chunkEnd(text)
		ids = e.encodeChunk(ids, sc, text[:end])
		text = text[end:]
	}
	return ids
}

// encodeChunk appends the tokens of text to ids.
func (e *bpe) encodeChunk(ids []int, sc *bpeScratch, text string) []int {
	sc.spans, sc.tmp = e.pre.split(text, sc.spans, sc.tmp)
	for _, sp := range sc.spans {
		word := text[sp.a:sp.b]
		if e.whole != nil {
			if id, ok := e.whole[word]; ok {
				ids = append(ids, int(id))
				continue
			}
		}
		if cached, ok := e.cache.get(word); ok {
			ids = append(ids, cached...)
			continue
		}
		n := len(ids)
		ids = e.encodeWord(ids, sc, word)
		e.cache.put(word, ids[n:])
	}
	return ids
}

// bpeSym is one symbol of a word being merged, in a doubly linked list;
// id < 0 marks a symbol merged into its left neighbour.
type bpeSym struct {
	id         int32
	prev, next int32
}

// candidate is a possible merge of the symbols at left and its right
// neighbour, made when they were the tokens l and r.
type candidate struct {
	rank, left int32
	l, r, id   int32
}

// encodeWord merges the bytes of one pre-token: repeatedly the adjacent
// pair whose rule has the lowest rank, leftmost on ties, as Hugging Face's
// BPE and llama.cpp's llm_tokenizer_bpe_session do, with a priority queue
// (O(n log n) in the word's length).
func (e *bpe) encodeWord(ids []int, sc *bpeScratch, word string) []int {
	sym := sc.sym[:0]
	for i := 0; i < len(word); i++ {
		id := e.byteID[word[i]]
		if id < 0 {
			id = int32(e.v.UNK) // a vocabulary without this byte
		}
		sym = append(sym, bpeSym{id: id, prev: int32(i) - 1, next: int32(i) + 1})
	}
	sym[len(sym)-1].next = -1
	sc.sym = sym
	q := &sc.q
	q.reset()
	try := func(left int32) {
		if left < 0 {
			return
		}
		right := sym[left].next
		if right < 0 {
			return
		}
		l, r := sym[left].id, sym[right].id
		if rule, ok := e.merges.get(l, r); ok {
			q.push(candidate{rank: rule.rank, left: left, l: l, r: r, id: rule.id})
		}
	}
	for i := range sym {
		try(int32(i))
	}
	for q.len() > 0 {
		c := q.pop()
		s := &sym[c.left]
		if s.id != c.l || s.next < 0 || sym[s.next].id != c.r {
			continue // stale: one side was merged since
		}
		right := s.next
		s.id = c.id
		s.next = sym[right].next
		sym[right].id = -1
		if s.next >= 0 {
			sym[s.next].prev = c.left
		}
		try(s.prev)
		try(c.left)
	}
	for i := int32(0); i >= 0; i = sym[i].next {
		if id := sym[i].id; id >= 0 {
			ids = append(ids, int(id))
		}
	}
	return ids
}

// candidateBefore orders BPE's merges: lowest rank first, then leftmost.
func candidateBefore(a, b candidate) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
}

// decode appends the bytes of token id to dst.
func (e *bpe) decode(dst []byte, id int) []byte {
	return append(dst, e.bytes[id]...)
}
