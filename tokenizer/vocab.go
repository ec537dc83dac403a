package tokenizer

import (
	"fmt"

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
	v := &Vocab{Model: model, BOS: -1, EOS: -1, UNK: -1, PAD: -1}
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
	}{{"bos", v.BOS}, {"eos", v.EOS}, {"unk", v.UNK}, {"pad", v.PAD}} {
		if s.id < -1 || s.id >= n {
			return bad("%s id %d out of range [0,%d)", s.name, s.id, n)
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
