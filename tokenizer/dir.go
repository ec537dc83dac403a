package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
)

// LoadDir reads the tokenizer of a Hugging Face model directory: a
// SentencePiece tokenizer.model if there is one (as llama.cpp's converter
// prefers it), else tokenizer.json, else vocab.json + merges.txt. The
// special tokens and add_bos/add_eos flags of special_tokens_map.json and
// tokenizer_config.json are applied on top, in that order. A directory
// with none of the tokenizer files wraps format.ErrNotFound.
func LoadDir(dir string) (*Vocab, error) {
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	var v *Vocab
	var err error
	switch {
	case exists("tokenizer.model"):
		v, err = LoadSentencePiece(filepath.Join(dir, "tokenizer.model"))
	case exists("tokenizer.json"):
		v, err = LoadTokenizerJSON(filepath.Join(dir, "tokenizer.json"))
	case exists("vocab.json") && exists("merges.txt"):
		v, err = LoadGPT2(filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt"))
	default:
		return nil, fmt.Errorf("tokenizer: %s: no tokenizer.model, tokenizer.json or vocab.json+merges.txt: %w", dir, format.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"special_tokens_map.json", "tokenizer_config.json"} {
		path := filepath.Join(dir, name)
		data, err := readFile(path)
		if errors.Is(err, format.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := v.ApplyTokenizerConfig(data, path); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// ApplyTokenizerConfig sets special tokens and flags from a Hugging Face
// tokenizer_config.json or special_tokens_map.json (or the *_token_id keys
// of config.json): bos_token, eos_token, unk_token and pad_token given as a
// string or {"content": ...}, bos_token_id etc. as integers, and
// add_bos_token / add_eos_token. A token named but absent from the vocab is
// ignored, as gguf-py's SpecialVocab does; an id out of range or malformed
// JSON wraps format.ErrFormat. name is used in errors.
func (v *Vocab) ApplyTokenizerConfig(data []byte, name string) error {
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("tokenizer: %s: %v: %w", name, err, format.ErrFormat)
	}
	idx := v.index()
	for _, s := range []struct {
		key string
		dst *int
	}{{"bos", &v.BOS}, {"eos", &v.EOS}, {"unk", &v.UNK}, {"pad", &v.PAD}} {
		if raw, ok := cfg[s.key+"_token"]; ok {
			if text, ok := tokenContent(raw); ok {
				if id, ok := idx[text]; ok {
					*s.dst = id
				}
			}
		}
		if raw, ok := cfg[s.key+"_token_id"]; ok {
			var id *int
			if err := json.Unmarshal(raw, &id); err != nil {
				// Some configs list several eos ids; the first is the one.
				var ids []int
				if json.Unmarshal(raw, &ids) != nil || len(ids) == 0 {
					return fmt.Errorf("tokenizer: %s: %s_token_id: %v: %w", name, s.key, err, format.ErrFormat)
				}
				id = &ids[0]
			}
			if id != nil {
				if *id < 0 || *id >= len(v.Tokens) {
					return fmt.Errorf("tokenizer: %s: %s_token_id %d out of range for %d tokens: %w", name, s.key, *id, len(v.Tokens), format.ErrFormat)
				}
				*s.dst = *id
			}
		}
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"add_bos_token", &v.AddBOS}, {"add_eos_token", &v.AddEOS}} {
		if raw, ok := cfg[f.key]; ok {
			var b *bool
			if err := json.Unmarshal(raw, &b); err != nil {
				return fmt.Errorf("tokenizer: %s: %s: %v: %w", name, f.key, err, format.ErrFormat)
			}
			if b != nil {
				*f.dst = *b
			}
		}
	}
	return nil
}

// tokenContent reads a special token given as "text" or {"content": "text"}.
func tokenContent(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Content != nil {
		return *obj.Content, true
	}
	return "", false
}
