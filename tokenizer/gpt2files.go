package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// endOfText is GPT-2's one special token.
const endOfText = "<|endoftext|>"

// LoadGPT2 reads GPT-2's vocab.json (encoder.json) and merges.txt
// (vocab.bpe).
func LoadGPT2(vocabPath, mergesPath string) (*Vocab, error) {
	vj, err := readFile(vocabPath)
	if err != nil {
		return nil, err
	}
	mt, err := readFile(mergesPath)
	if err != nil {
		return nil, err
	}
	return ParseGPT2(vj, mt, vocabPath, mergesPath)
}

// ParseGPT2 reads the contents of vocab.json and merges.txt (names are used
// in errors). The vocab is model "gpt2", pre "gpt-2"; tokens that look
// special ("<|endoftext|>", "<unk>") are control tokens, and
// "<|endoftext|>", when present, is BOS and EOS, as for GPT-2. Refine the
// special tokens with ApplyTokenizerConfig.
func ParseGPT2(vocabJSON, mergesTxt []byte, vocabName, mergesName string) (*Vocab, error) {
	var m map[string]int
	if err := json.Unmarshal(vocabJSON, &m); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %v: %w", vocabName, err, format.ErrFormat)
	}
	v := newVocab(ModelGPT2)
	if err := v.setTokens(m, nil); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", vocabName, err)
	}
	merges, err := parseMergesTxt(mergesTxt)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", mergesName, err)
	}
	v.Merges = merges
	for id, t := range v.Tokens {
		if looksSpecial(t) {
			v.Types[id] = Control
		}
	}
	v.guessSpecialIDs()
	return v, nil
}

// parseMergesTxt reads merges.txt: an optional "#version" line, then one
// "left right" rule per line.
func parseMergesTxt(data []byte) ([]string, error) {
	var merges []string
	for i, line := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimSuffix(string(line), "\r")
		if s == "" || (i == 0 && strings.HasPrefix(s, "#version")) {
			continue
		}
		if _, _, ok := splitMerge(s); !ok {
			return nil, fmt.Errorf("line %d: %q is not two tokens separated by a space: %w", i+1, s, format.ErrFormat)
		}
		merges = append(merges, s)
	}
	return merges, nil
}

// setTokens fills Tokens and Types from a text->id map plus added tokens,
// as convert_hf_to_gguf.py does: ids with no token become "[PAD<id>]"
// (Unused). Ids are bounded by the number of entries, so a hostile id
// cannot size an allocation.
func (v *Vocab) setTokens(vocab map[string]int, added []addedToken) error {
	n := 0
	bound := 2*(len(vocab)+len(added)) + 1024
	check := func(t string, id int) error {
		if id < 0 || id >= bound {
			return fmt.Errorf("token %q: id %d out of range for %d entries: %w", t, id, len(vocab)+len(added), format.ErrFormat)
		}
		n = max(n, id+1)
		return nil
	}
	for t, id := range vocab {
		if err := check(t, id); err != nil {
			return err
		}
	}
	for _, a := range added {
		if err := check(a.Content, a.ID); err != nil {
			return err
		}
	}
	if n == 0 {
		return fmt.Errorf("empty vocabulary: %w", format.ErrFormat)
	}
	v.Tokens = make([]string, n)
	v.Types = make([]TokenType, n)
	set := make([]bool, n)
	for t, id := range vocab {
		if set[id] && v.Tokens[id] != t {
			return fmt.Errorf("id %d is both %q and %q: %w", id, v.Tokens[id], t, format.ErrFormat)
		}
		v.Tokens[id], v.Types[id], set[id] = t, Normal, true
	}
	for _, a := range added {
		if set[a.ID] && v.Tokens[a.ID] != a.Content {
			return fmt.Errorf("id %d is both %q and %q: %w", a.ID, v.Tokens[a.ID], a.Content, format.ErrFormat)
		}
		typ := UserDefined
		if a.Special || looksSpecial(a.Content) {
			typ = Control
		}
		v.Tokens[a.ID], v.Types[a.ID], set[a.ID] = a.Content, typ, true
	}
	for id := range v.Tokens {
		if !set[id] {
			v.Tokens[id], v.Types[id] = fmt.Sprintf("[PAD%d]", id), Unused
		}
	}
	return nil
}

// looksSpecial reports whether a token's text has the shape of a special
// token, "<|...|>" or "<name>" (convert_hf_to_gguf.py's
// does_token_look_special, less its model-specific cases).
func looksSpecial(t string) bool {
	if strings.HasPrefix(t, "<|") && strings.HasSuffix(t, "|>") && len(t) > 4 {
		return true
	}
	switch t {
	case "<s>", "</s>", "<unk>", "<pad>", "<mask>", "<cls>", "<sep>", "<eos>", "<bos>":
		return true
	}
	return false
}

// guessSpecialIDs sets BOS/EOS/UNK/PAD that are still -1 from well-known
// texts of special tokens (never from normal tokens: Qwen's vocabulary
// holds "<s>" as plain text).
func (v *Vocab) guessSpecialIDs() {
	idx := map[string]int{}
	for id, t := range v.Tokens {
		if typ := v.Type(id); typ != Normal && typ != Byte && typ != Unused {
			idx[t] = id
		}
	}
	find := func(dst *int, names ...string) {
		if *dst >= 0 {
			return
		}
		for _, n := range names {
			if id, ok := idx[n]; ok {
				*dst = id
				return
			}
		}
	}
	find(&v.BOS, "<s>", "<|begin_of_text|>", endOfText)
	find(&v.EOS, "</s>", "<|end_of_text|>", endOfText)
	find(&v.UNK, "<unk>")
	find(&v.PAD, "<pad>")
}
