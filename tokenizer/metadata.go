package tokenizer

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// GGUF metadata keys of the tokenizer (gguf-py Keys.Tokenizer).
const (
	KeyModel          = "tokenizer.ggml.model"
	KeyPre            = "tokenizer.ggml.pre"
	KeyTokens         = "tokenizer.ggml.tokens"
	KeyScores         = "tokenizer.ggml.scores"
	KeyTokenType      = "tokenizer.ggml.token_type"
	KeyMerges         = "tokenizer.ggml.merges"
	KeyBOS            = "tokenizer.ggml.bos_token_id"
	KeyEOS            = "tokenizer.ggml.eos_token_id"
	KeyUNK            = "tokenizer.ggml.unknown_token_id"
	KeyPAD            = "tokenizer.ggml.padding_token_id"
	KeyAddBOS         = "tokenizer.ggml.add_bos_token"
	KeyAddEOS         = "tokenizer.ggml.add_eos_token"
	KeyAddSpacePrefix = "tokenizer.ggml.add_space_prefix"
)

// noTokenID is how llama.cpp's tools write "no such token" in a UINT32
// special-token key (llama-convert-llama2c-to-ggml's padding_token_id):
// read as none, as llama.cpp reads it.
const noTokenID = 0xFFFFFFFF

// FromMetadata reads a vocabulary from GGUF metadata (the tokenizer.ggml.*
// keys). A missing tokenizer wraps format.ErrNotFound, a model other than
// "gpt2" or "llama" format.ErrUnsupported, and keys of the wrong type or
// inconsistent lengths format.ErrFormat. Callers add the file name.
func FromMetadata(md format.Metadata) (*Vocab, error) {
	model, ok := md.String(KeyModel)
	if !ok {
		if _, present := md.Get(KeyModel); present {
			return nil, keyErr(KeyModel, "is not a string")
		}
		return nil, fmt.Errorf("tokenizer: metadata has no %s: %w", KeyModel, format.ErrNotFound)
	}
	if model != ModelGPT2 && model != ModelLlama {
		return nil, fmt.Errorf("tokenizer: %s = %q: %w", KeyModel, model, format.ErrUnsupported)
	}
	v := newVocab(model)
	if pre, ok := md.Get(KeyPre); ok {
		s, isStr := pre.(string)
		if !isStr {
			return nil, keyErr(KeyPre, "is not a string")
		}
		v.Pre = s
	}
	var err error
	if v.Tokens, err = mdArray[string](md, KeyTokens, true); err != nil {
		return nil, err
	}
	if v.Scores, err = mdArray[float32](md, KeyScores, false); err != nil {
		return nil, err
	}
	types, err := mdArray[int32](md, KeyTokenType, false)
	if err != nil {
		return nil, err
	}
	if len(types) > 0 {
		v.Types = make([]TokenType, len(types))
		for i, t := range types {
			v.Types[i] = TokenType(t)
		}
	}
	if v.Merges, err = mdArray[string](md, KeyMerges, false); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		key string
		dst *int
	}{{KeyBOS, &v.BOS}, {KeyEOS, &v.EOS}, {KeyUNK, &v.UNK}, {KeyPAD, &v.PAD}} {
		if _, present := md.Get(s.key); !present {
			continue
		}
		id, ok := md.Int(s.key)
		if !ok {
			return nil, keyErr(s.key, "is not an integer")
		}
		if id == noTokenID || id == -1 {
			continue // llama.cpp's LLAMA_TOKEN_NULL written as UINT32 (or INT32): none
		}
		if id < 0 || id >= int64(len(v.Tokens)) {
			return nil, keyErr(s.key, fmt.Sprintf("= %d, out of range for %d tokens", id, len(v.Tokens)))
		}
		*s.dst = int(id)
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{KeyAddBOS, &v.AddBOS}, {KeyAddEOS, &v.AddEOS}, {KeyAddSpacePrefix, &v.AddSpacePrefix}} {
		x, present := md.Get(f.key)
		if !present {
			continue
		}
		b, ok := x.(bool)
		if !ok {
			return nil, keyErr(f.key, "is not a bool")
		}
		*f.dst = b
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return v, nil
}

// Metadata returns the tokenizer.ggml.* keys in the order and with the value
// types llama.cpp's converters (gguf-py) write them: model, pre, tokens,
// scores (when the vocab has any), token_type, merges (when any), the
// special ids present (uint32), and the add_bos/add_eos flags (for llama
// vocabularies, or when set). add_space_prefix is written only when it
// differs from llama.cpp's default (true for llama).
func (v *Vocab) Metadata() format.Metadata {
	md := format.Metadata{
		{Key: KeyModel, Value: v.Model},
		{Key: KeyPre, Value: v.Pre},
		{Key: KeyTokens, Value: append([]string(nil), v.Tokens...)},
	}
	if len(v.Scores) > 0 {
		md = append(md, format.KV{Key: KeyScores, Value: append([]float32(nil), v.Scores...)})
	}
	types := make([]int32, len(v.Tokens))
	for i := range types {
		types[i] = int32(v.Type(i))
	}
	md = append(md, format.KV{Key: KeyTokenType, Value: types})
	if len(v.Merges) > 0 {
		md = append(md, format.KV{Key: KeyMerges, Value: append([]string(nil), v.Merges...)})
	}
	for _, s := range []struct {
		key string
		id  int
	}{{KeyBOS, v.BOS}, {KeyEOS, v.EOS}, {KeyUNK, v.UNK}, {KeyPAD, v.PAD}} {
		if s.id >= 0 {
			md = append(md, format.KV{Key: s.key, Value: uint32(s.id)})
		}
	}
	if v.Model == ModelLlama || v.AddBOS || v.AddEOS {
		md = append(md, format.KV{Key: KeyAddBOS, Value: v.AddBOS}, format.KV{Key: KeyAddEOS, Value: v.AddEOS})
	}
	if v.Model == ModelLlama && !v.AddSpacePrefix {
		md = append(md, format.KV{Key: KeyAddSpacePrefix, Value: false})
	}
	return md
}

// mdArray returns the array under key as []T. A missing optional key gives
// nil; a missing required key or one of another type is an error.
func mdArray[T any](md format.Metadata, key string, required bool) ([]T, error) {
	x, ok := md.Get(key)
	if !ok {
		if required {
			return nil, fmt.Errorf("tokenizer: metadata has no %s: %w", key, format.ErrNotFound)
		}
		return nil, nil
	}
	a, ok := x.([]T)
	if !ok {
		var zero T
		return nil, keyErr(key, fmt.Sprintf("is %T, want []%T", x, zero))
	}
	return a, nil
}

func keyErr(key, what string) error {
	return fmt.Errorf("tokenizer: metadata key %s %s: %w", key, what, format.ErrFormat)
}
