package tokenizer

import (
	"fmt"
	"sort"
	"strings"

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
}

// New returns a Tokenizer for v. It fails (wrapping format.ErrFormat or
// format.ErrUnsupported) when v does not validate or is a byte-level BPE
// vocabulary with a pre-tokenizer other than GPT-2's.
func New(v *Vocab) (*Tokenizer, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	t := &Tokenizer{AddBOS: v.AddBOS, AddEOS: v.AddEOS, v: v}
	switch v.Model {
	case ModelGPT2:
		switch v.Pre {
		case "gpt-2", "default", "":
		default:
			// Other pre-tokenizers (llama-bpe, qwen2, ...) split text with
			// other patterns; tokenizing with GPT-2's would be silently wrong.
			return nil, fmt.Errorf("tokenizer: pre-tokenizer %q: %w (gpt-2 only)", v.Pre, format.ErrUnsupported)
		}
		e, err := newBPE(v)
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
	// Longest first, so that "<|im_start|>" wins over "<|im".
	sort.SliceStable(t.special, func(i, j int) bool { return len(v.Tokens[t.special[i]]) > len(v.Tokens[t.special[j]]) })
	return t, nil
}

// Vocab returns the tokenizer's vocabulary (not to be modified).
func (t *Tokenizer) Vocab() *Vocab { return t.v }

// Encode returns the token ids of text, framed by BOS/EOS per AddBOS and
// AddEOS. Text that no piece covers falls back to byte tokens, so every
// string encodes; byte-level BPE and byte-fallback vocabularies decode back
// to exactly the input.
func (t *Tokenizer) Encode(text string) []int {
	var ids []int
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
		if t.bpe != nil {
			ids = t.bpe.encode(ids, f.text)
		} else {
			ids = t.spm.encode(ids, escapeSpaces(f.text, t.v.AddSpacePrefix && prevSpecial))
		}
		prevSpecial = false
	}
	if t.AddEOS && t.v.EOS >= 0 {
		ids = append(ids, t.v.EOS)
	}
	return ids
}

// fragment is a run of plain text (id < 0) or one special token.
type fragment struct {
	text string
	id   int
}

// partition splits text at occurrences of special tokens, longest token
// first, as llama.cpp's tokenizer_st_partition does. Control and unknown
// tokens count only with ParseSpecial.
func (t *Tokenizer) partition(text string) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{text: text, id: -1}}
	for _, id := range t.special {
		if !t.ParseSpecial && t.v.Type(id) != UserDefined {
			continue
		}
		tok := t.v.Tokens[id]
		var out []fragment
		for _, f := range frags {
			for f.id < 0 {
				i := strings.Index(f.text, tok)
				if i < 0 {
					break
				}
				if i > 0 {
					out = append(out, fragment{text: f.text[:i], id: -1})
				}
				out = append(out, fragment{id: id})
				f.text = f.text[i+len(tok):]
				if f.text == "" {
					break
				}
			}
			if f.id >= 0 || f.text != "" {
				out = append(out, f)
			}
		}
		frags = out
	}
	return frags
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
