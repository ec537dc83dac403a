package tokenizer

import (
	"fmt"
	"slices"

	"github.com/lorakit/lorakit/format"
)

// TokenType is llama.cpp's token type (GGUF tokenizer.ggml.token_type), the
// same numbering as SentencePiece's piece types.
type TokenType int32

// Token types.
const (
	Undefined   TokenType = 0
	Normal      TokenType = 1
	Unknown     TokenType = 2
	Control     TokenType = 3
	UserDefined TokenType = 4
	Unused      TokenType = 5
	Byte        TokenType = 6
)

// Tokenizer model names, as in GGUF tokenizer.ggml.model.
const (
	ModelGPT2  = "gpt2"  // byte-level BPE
	ModelLlama = "llama" // SentencePiece-style BPE with byte fallback
)

// Vocab is a tokenizer vocabulary as GGUF stores it: tokens indexed by id,
// with optional scores (SentencePiece), token types and merges (BPE), the
// special token ids and the flags that control how text is framed.
type Vocab struct {
	// Model is ModelGPT2 or ModelLlama (tokenizer.ggml.model).
	Model string
	// Pre names the pre-tokenizer (tokenizer.ggml.pre): "gpt-2" for GPT-2,
	// "default" for SentencePiece vocabularies.
	Pre string
	// Tokens holds each token's text, indexed by id. Byte-level BPE tokens
	// are in GPT-2's byte-to-unicode form ("Ġthe"); SentencePiece tokens
	// use "▁" for a space.
	Tokens []string
	// Scores holds one score per token (empty for BPE vocabularies).
	Scores []float32
	// Types holds one TokenType per token (empty means all Normal).
	Types []TokenType
	// Merges holds BPE merge rules "left right", highest priority first.
	Merges []string
	// BOS, EOS, UNK and PAD are special token ids, -1 when absent.
	BOS, EOS, UNK, PAD int
	// AddBOS and AddEOS say whether a BOS/EOS token frames encoded text.
	AddBOS, AddEOS bool
	// AddSpacePrefix (SentencePiece add_dummy_prefix) puts a space before
	// the text; true for Llama. Ignored by byte-level BPE.
	AddSpacePrefix bool
	// SpacePrefixMetaspace follows Hugging Face's Metaspace pre-tokenizer:
	// no space prefix before text that starts with a space (which already
	// becomes "▁"). SpacePrefixFirstOnly (prepend_scheme "first") puts the
	// prefix only at the start of the text, not after special tokens. GGUF
	// cannot say either: llama.cpp prefixes every text after a special
	// token.
	SpacePrefixMetaspace, SpacePrefixFirstOnly bool

	// PreSteps is the pre-tokenizer of a byte-level BPE vocabulary. Empty
	// means the steps of llama.cpp's pre-tokenizer type named by Pre.
	PreSteps []PreStep
	// IgnoreMerges makes a pre-token that is itself a token one token,
	// unmerged (BPE ignore_merges: Llama 3, Tekken).
	IgnoreMerges bool
	// Normalizers rewrite text before it is split (Hugging Face's
	// normalizer; GGUF has none). For SentencePiece-style vocabularies
	// the space prefix and "▁" escaping are AddSpacePrefix, not here.
	Normalizers []Normalizer
	// Added holds the Hugging Face flags of added tokens, by id.
	Added map[int]AddedFlags

	// EOT and EOM are the end-of-turn and end-of-message ids, -1 when
	// absent (tokenizer.ggml.eot_token_id, eom_token_id).
	EOT, EOM int
	// EOG lists further ids that end generation (a list-valued
	// eos_token_id in generation_config.json), beyond EOS, EOT and EOM.
	EOG []int
	// ChatTemplate is the model's Jinja chat template
	// (tokenizer.chat_template), "" when it has none.
	ChatTemplate string
}

// AddedFlags are a Hugging Face added token's matching rules.
type AddedFlags struct {
	// LStrip and RStrip make a match swallow the white space before or
	// after the token.
	LStrip, RStrip bool
	// SingleWord matches the token only where no word character touches it.
	SingleWord bool
	// Normalized matches the token in normalized text (not raw text).
	Normalized bool
}

// EOGIDs returns every id that ends generation: EOS, EOT, EOM and EOG,
// without repeats, as llama.cpp's EOG set from the converter's keys.
func (v *Vocab) EOGIDs() []int {
	var out []int
	for _, id := range append([]int{v.EOS, v.EOT, v.EOM}, v.EOG...) {
		if id >= 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// Len is the number of tokens.
func (v *Vocab) Len() int { return len(v.Tokens) }

// Type returns token id's type (Normal when the vocab has no types).
func (v *Vocab) Type(id int) TokenType {
	if id < 0 || id >= len(v.Types) {
		return Normal
	}
	return v.Types[id]
}

// Score returns token id's score (0 when the vocab has no scores).
func (v *Vocab) Score(id int) float32 {
	if id < 0 || id >= len(v.Scores) {
		return 0
	}
	return v.Scores[id]
}

// newVocab returns an empty vocab of the given model with no special ids
// and llama.cpp's default flags for that model.
func newVocab(model string) *Vocab {
	v := &Vocab{Model: model, BOS: -1, EOS: -1, UNK: -1, PAD: -1, EOT: -1, EOM: -1}
	switch model {
	case ModelLlama:
		v.Pre, v.AddBOS, v.AddSpacePrefix = "default", true, true
	case ModelGPT2:
		v.Pre = "gpt-2"
	}
	return v
}

// Validate checks that the vocabulary is self-consistent: a known model,
// per-token arrays of the right length, known token types and special ids
// in range. Errors wrap format.ErrFormat.
func (v *Vocab) Validate() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("tokenizer: %s: %w", fmt.Sprintf(f, a...), format.ErrFormat)
	}
	switch v.Model {
	case ModelGPT2, ModelLlama:
	default:
		return fmt.Errorf("tokenizer: model %q: %w", v.Model, format.ErrUnsupported)
	}
	n := len(v.Tokens)
	if n == 0 {
		return bad("empty vocabulary")
	}
	if len(v.Scores) != 0 && len(v.Scores) != n {
		return bad("%d scores for %d tokens", len(v.Scores), n)
	}
	if len(v.Types) != 0 && len(v.Types) != n {
		return bad("%d token types for %d tokens", len(v.Types), n)
	}
	for i, t := range v.Types {
		if t < Undefined || t > Byte {
			return bad("token %d: type %d out of range", i, t)
		}
	}
	for _, s := range []struct {
		name string
		id   int
	}{{"bos", v.BOS}, {"eos", v.EOS}, {"unk", v.UNK}, {"pad", v.PAD}, {"eot", v.EOT}, {"eom", v.EOM}} {
		if s.id < -1 || s.id >= n {
			return bad("%s id %d out of range [0,%d)", s.name, s.id, n)
		}
	}
	for _, id := range v.EOG {
		if id < 0 || id >= n {
			return bad("end-of-generation id %d out of range [0,%d)", id, n)
		}
	}
	for id := range v.Added {
		if id < 0 || id >= n {
			return bad("added token id %d out of range [0,%d)", id, n)
		}
	}
	return nil
}

// index maps token text to id. When a text occurs twice the highest id
// wins, as in llama.cpp's token_to_id.
func (v *Vocab) index() map[string]int {
	m := make(map[string]int, len(v.Tokens))
	for i, t := range v.Tokens {
		m[t] = i
	}
	return m
}

// padScore is the score convert_hf_to_gguf.py gives the "[PAD<id>]" tokens
// it adds to fill a SentencePiece vocab up to the model's size.
const padScore = -10000

// Resize makes the vocab exactly n tokens long for a model whose embedding
// has n rows: missing ids are filled with unused "[PAD<id>]" tokens, as
// llama.cpp's converter does. A tokenizer with more tokens than the model
// has rows cannot be used with it (format.ErrShape).
func (v *Vocab) Resize(n int) error {
	if n < len(v.Tokens) {
		return fmt.Errorf("tokenizer: %d tokens, but the model's vocabulary has %d: %w", len(v.Tokens), n, format.ErrShape)
	}
	for id := len(v.Tokens); id < n; id++ {
		v.Tokens = append(v.Tokens, fmt.Sprintf("[PAD%d]", id))
		if len(v.Scores) > 0 {
			v.Scores = append(v.Scores, padScore)
		}
		if len(v.Types) > 0 {
			v.Types = append(v.Types, Unused)
		}
	}
	return nil
}

// CheckGGUF reports whether llama.cpp can tokenize with v as GGUF carries
// it: a byte-level BPE vocabulary needs a pre-tokenizer type llama.cpp
// knows whose splitting is v's (format.ErrUnsupported otherwise).
func (v *Vocab) CheckGGUF() error {
	if v.Model != ModelGPT2 {
		return nil
	}
	pt, ok := lookupPre(v.Pre)
	if !ok || v.Pre == "" {
		return fmt.Errorf("tokenizer: pre-tokenizer %s is none of llama.cpp's pre-tokenizer types: %w", preStepsString(v.PreSteps), format.ErrUnsupported)
	}
	if len(v.PreSteps) > 0 && !slices.Equal(v.PreSteps, pt.steps) {
		return fmt.Errorf("tokenizer: pre-tokenizer %s is not llama.cpp's %q: %w", preStepsString(v.PreSteps), v.Pre, format.ErrUnsupported)
	}
	return nil
}
