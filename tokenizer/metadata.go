package tokenizer

import (
	"fmt"
	"strings"

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
	KeyEOT            = "tokenizer.ggml.eot_token_id"
	KeyEOM            = "tokenizer.ggml.eom_token_id"
	KeyChatTemplate   = "tokenizer.chat_template"
)

// noToken is the id GGUF writers use for "no such token" (LLAMA_TOKEN_NULL
// as uint32); llama.cpp warns and keeps its default.
const noToken = 0xFFFFFFFF

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
	if model == ModelGPT2 {
		// llama.cpp's defaults for the pre-tokenizer type, before the keys.
		v.AddBOS = defaultAddBOS(v)
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
	}{{KeyBOS, &v.BOS}, {KeyEOS, &v.EOS}, {KeyUNK, &v.UNK}, {KeyPAD, &v.PAD}, {KeyEOT, &v.EOT}, {KeyEOM, &v.EOM}} {
		if _, present := md.Get(s.key); !present {
			continue
		}
		id, ok := md.Int(s.key)
		if !ok {
			return nil, keyErr(s.key, "is not an integer")
		}
		if id == noToken || id == -1 {
			*s.dst = -1 // "none", as llama.cpp reads it
			continue
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
	if x, present := md.Get(KeyChatTemplate); present {
		s, ok := x.(string)
		if !ok {
			return nil, keyErr(KeyChatTemplate, "is not a string")
		}
		v.ChatTemplate = s
	}
	if name, _ := md.String("general.name"); strings.Contains(strings.ToLower(name), "phi-3") || strings.Contains(strings.ToLower(name), "phi3") {
		v.phi3RStrip()
	}
	if model == ModelGPT2 {
		// llama.cpp decides ignore_merges by the pre-tokenizer type.
		if pt, ok := lookupPre(v.Pre); ok {
			v.IgnoreMerges = pt.ignoreMerges
		}
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return v, nil
}

// defaultAddBOS is llama.cpp's add_bos for a vocabulary whose GGUF has no
// tokenizer.ggml.add_bos_token: true for SentencePiece and for the Llama 3
// and Tekken pre-tokenizer types.
func defaultAddBOS(v *Vocab) bool {
	if v.Model == ModelLlama {
		return true
	}
	pt, ok := lookupPre(v.Pre)
	return ok && pt.addBOS
}

// phi3RStrip gives Phi-3's special tokens the rstrip flag its
// tokenizer.json has, as llama.cpp does for a model named phi-3 (GGUF
// cannot carry the flags): every control, user-defined and unknown token
// and "</s>", except "<unk>", "<s>" and "<|endoftext|>".
func (v *Vocab) phi3RStrip() {
	for id, t := range v.Tokens {
		switch v.Type(id) {
		case Control, UserDefined, Unknown:
		default:
			if t != "</s>" {
				continue
			}
		}
		if t == "<unk>" || t == "<s>" || t == "<|endoftext|>" {
			continue
		}
		if v.Added == nil {
			v.Added = map[int]AddedFlags{}
		}
		f := v.Added[id]
		f.RStrip = true
		v.Added[id] = f
	}
}

// Metadata returns the tokenizer.ggml.* keys in the order and with the value
// types llama.cpp's converters (gguf-py) write them: model, pre, tokens,
// scores (when the vocab has any), token_type, merges (when any), the
// special ids present (uint32: bos, eos, unk, pad, eot, eom), the
// add_bos/add_eos flags (for llama vocabularies, when set, or when they
// differ from what llama.cpp assumes for the pre-tokenizer type without
// the keys) and the chat template. add_space_prefix is written only when it
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
	}{{KeyBOS, v.BOS}, {KeyEOS, v.EOS}, {KeyUNK, v.UNK}, {KeyPAD, v.PAD}, {KeyEOT, v.EOT}, {KeyEOM, v.EOM}} {
		if s.id >= 0 {
			md = append(md, format.KV{Key: s.key, Value: uint32(s.id)})
		}
	}
	if v.Model == ModelLlama || v.AddBOS || v.AddEOS || v.AddBOS != defaultAddBOS(v) {
		md = append(md, format.KV{Key: KeyAddBOS, Value: v.AddBOS}, format.KV{Key: KeyAddEOS, Value: v.AddEOS})
	}
	if v.Model == ModelLlama && !v.AddSpacePrefix {
		md = append(md, format.KV{Key: KeyAddSpacePrefix, Value: false})
	}
	if v.ChatTemplate != "" {
		md = append(md, format.KV{Key: KeyChatTemplate, Value: v.ChatTemplate})
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
