package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lorakit/lorakit/format"
)

// Tokenizer encodes text to token ids and decodes ids to text with a Vocab,
// as llama.cpp's llama_tokenize and llama_detokenize do. It is safe for
// concurrent use once its flags are set.
type Tokenizer struct {
	// AddBOS and AddEOS frame every Encode result with the vocabulary's
	// BOS/EOS token (when it has one). New copies them from the Vocab.
	AddBOS, AddEOS bool
	// ParseSpecial makes Encode turn the text of control tokens ("<s>",
	// "<|endoftext|>") into those tokens. User-defined tokens are always
	// matched, as in llama.cpp.
	ParseSpecial bool
	// DecodeSpecial makes Decode write control tokens' text instead of
	// dropping them.
	DecodeSpecial bool

	v       *Vocab
	bpe     *bpe // model gpt2
	spm     *spm // model llama
	special []int
	// first marks the first bytes of the special tokens; trie finds them.
	first [256]bool
	trie  addedTrie
}

// New returns a Tokenizer for v. It fails (wrapping format.ErrFormat or
// format.ErrUnsupported) when v does not validate, or is a byte-level BPE
// vocabulary whose pre-tokenizer lorakit does not know.
func New(v *Vocab) (*Tokenizer, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	for _, n := range v.Normalizers {
		if err := checkNormalizer(n); err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
	}
	t := &Tokenizer{AddBOS: v.AddBOS, AddEOS: v.AddEOS, v: v}
	switch v.Model {
	case ModelGPT2:
		steps, ignore := v.PreSteps, v.IgnoreMerges
		if len(steps) == 0 {
			pt, ok := lookupPre(v.Pre)
			if !ok {
				return nil, fmt.Errorf("tokenizer: pre-tokenizer type %q: %w (not one of llama.cpp's)", v.Pre, format.ErrUnsupported)
			}
			steps, ignore = pt.steps, ignore || pt.ignoreMerges
		}
		pre, err := compilePre(steps)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: pre-tokenizer %w", err)
		}
		e, err := newBPE(v, pre, ignore)
		if err != nil {
			return nil, err
		}
		t.bpe = e
	case ModelLlama:
		t.spm = newSPM(v)
	default:
		return nil, fmt.Errorf("tokenizer: model %q: %w", v.Model, format.ErrUnsupported)
	}
	for id, text := range v.Tokens {
		switch v.Type(id) {
		case Control, UserDefined, Unknown:
			if text != "" {
				t.special = append(t.special, id)
			}
		}
	}
	t.trie = addedTrie{next: map[uint64]int32{}, ids: []int32{-1}}
	for _, id := range t.special { // in id order
		t.first[v.Tokens[id][0]] = true
		t.trie.add(v.Tokens[id], id)
	}
	return t, nil
}

// Vocab returns the tokenizer's vocabulary (not to be modified).
func (t *Tokenizer) Vocab() *Vocab { return t.v }

// Encode returns the token ids of text, framed by BOS/EOS per AddBOS and
// AddEOS. Text that no piece covers falls back to byte tokens, so every
// string encodes; byte-level BPE and byte-fallback vocabularies decode back
// to exactly the input (less what a normalizer or an added token's
// lstrip/rstrip removes).
func (t *Tokenizer) Encode(text string) []int {
	ids := make([]int, 0, len(text)/4+2) // about 4 bytes a token
	if t.AddBOS && t.v.BOS >= 0 {
		ids = append(ids, t.v.BOS)
	}
	prevSpecial := true // SentencePiece prefixes a space to text after a special token
	for _, f := range t.partition(text) {
		if f.id >= 0 {
			ids = append(ids, f.id)
			prevSpecial = true
			continue
		}
		s := normalize(t.v.Normalizers, f.text)
		if t.bpe != nil {
			ids = t.bpe.encode(ids, s)
		} else {
			prefix := t.v.AddSpacePrefix && prevSpecial
			if t.v.SpacePrefixFirstOnly {
				prefix = t.v.AddSpacePrefix && f.start == 0
			}
			if t.v.SpacePrefixMetaspace && strings.HasPrefix(s, " ") {
				prefix = false
			}
			ids = t.spm.encode(ids, escapeSpaces(s, prefix))
		}
		prevSpecial = false
	}
	if t.AddEOS && t.v.EOS >= 0 {
		ids = append(ids, t.v.EOS)
	}
	return ids
}

// fragment is a run of plain text (id < 0) starting at byte start of the
// input, or one special token.
type fragment struct {
	text  string
	start int
	id    int
}

// partition splits text at added tokens as Hugging Face's AddedVocabulary
// does: scanning left to right, the longest token that starts at a
// position wins; lstrip/rstrip tokens swallow the white space beside them
// and single_word tokens match only between non-word characters. Control
// and unknown tokens count only with ParseSpecial; user-defined tokens
// always (as in llama.cpp).
func (t *Tokenizer) partition(text string) []fragment {
	if text == "" {
		return nil
	}
	var frags []fragment
	start := 0 // start of the pending plain text
	for i := 0; i < len(text); i++ {
		if !t.first[text[i]] {
			continue
		}
		id := t.matchAdded(text, i)
		if id < 0 {
			continue
		}
		fl := t.v.Added[id]
		end := i + len(t.v.Tokens[id])
		left := i
		if fl.LStrip {
			left = start + len(strings.TrimRightFunc(text[start:i], unicode.IsSpace))
		}
		if left > start {
			frags = append(frags, fragment{text: text[start:left], start: start, id: -1})
		}
		frags = append(frags, fragment{start: i, id: id})
		if fl.RStrip {
			end = len(text) - len(strings.TrimLeftFunc(text[end:], unicode.IsSpace))
		}
		start = end
		i = end - 1
	}
	if start < len(text) {
		frags = append(frags, fragment{text: text[start:], start: start, id: -1})
	}
	return frags
}

// matchAdded returns the longest eligible added token at text[i], -1 when
// none.
func (t *Tokenizer) matchAdded(text string, i int) int {
	best := -1
	node := int32(0)
	for j := i; j < len(text); j++ {
		child, ok := t.trie.next[uint64(node)<<8|uint64(text[j])]
		if !ok {
			break
		}
		node = child
		id := int(t.trie.ids[node])
		if id < 0 || (!t.ParseSpecial && t.v.Type(id) != UserDefined) {
			continue
		}
		if t.v.Added[id].SingleWord && (isWordBefore(text, i) || isWordAfter(text, j+1)) {
			continue
		}
		best = id
	}
	return best
}

// addedTrie is a byte trie of the added tokens: node 0 is the root, next
// maps (node, byte) to a child, ids holds the token ending at each node
// (-1 for none; the lowest id when two tokens share a text).
type addedTrie struct {
	next map[uint64]int32
	ids  []int32
}

func (tr *addedTrie) add(text string, id int) {
	node := int32(0)
	for j := 0; j < len(text); j++ {
		key := uint64(node)<<8 | uint64(text[j])
		child, ok := tr.next[key]
		if !ok {
			child = int32(len(tr.ids))
			tr.next[key] = child
			tr.ids = append(tr.ids, -1)
		}
		node = child
	}
	if tr.ids[node] < 0 {
		tr.ids[node] = int32(id)
	}
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func isWordBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return i > 0 && isWordRune(r)
}

func isWordAfter(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return i < len(s) && isWordRune(r)
}

// Decode returns the text of ids. Control tokens (BOS, EOS) are dropped
// unless DecodeSpecial is set; for SentencePiece vocabularies with a space
// prefix, the space that Encode added before the first piece is removed.
// Ids out of range are skipped.
func (t *Tokenizer) Decode(ids []int) string {
	var out []byte
	first := true
	for _, id := range ids {
		if id < 0 || id >= len(t.v.Tokens) {
			continue
		}
		n := len(out)
		out = t.appendPiece(out, id)
		if first && len(out) > n {
			first = false
			if t.spm != nil && t.v.AddSpacePrefix && out[n] == ' ' && t.v.Type(id) != Control {
				out = append(out[:n], out[n+1:]...)
			}
		}
	}
	return string(out)
}

// Piece returns the text of one token as it appears inside decoded text
// (with its leading space, if any), for streaming output. Control tokens
// give "" unless DecodeSpecial is set; out-of-range ids give "".
func (t *Tokenizer) Piece(id int) string {
	if id < 0 || id >= len(t.v.Tokens) {
		return ""
	}
	return string(t.appendPiece(nil, id))
}

func (t *Tokenizer) appendPiece(dst []byte, id int) []byte {
	switch t.v.Type(id) {
	case Control:
		if t.DecodeSpecial {
			dst = append(dst, t.v.Tokens[id]...)
		}
		return dst
	case Unused:
		return dst
	case UserDefined:
		return append(dst, t.v.Tokens[id]...)
	}
	if t.bpe != nil {
		return t.bpe.decode(dst, id)
	}
	return t.spm.decode(dst, id)
}
