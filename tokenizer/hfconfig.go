package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lorakit/lorakit/format"
)

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
	if raw, ok := cfg["chat_template"]; ok {
		var tmpl string
		var named []struct {
			Name     string `json:"name"`
			Template string `json:"template"`
		}
		switch {
		case json.Unmarshal(raw, &tmpl) == nil:
			v.ChatTemplate = tmpl
		case json.Unmarshal(raw, &named) == nil:
			for _, t := range named {
				if t.Name == "default" {
					v.ChatTemplate = t.Template
				}
			}
		default:
			return fmt.Errorf("tokenizer: %s: chat_template is neither a string nor a list of named templates: %w", name, format.ErrFormat)
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

// applyConfigIDs takes bos/eos/unk/pad_token_id from a model's
// config.json where the tokenizer files named none, as gguf-py's
// SpecialVocab does (a missing file is no error).
func (v *Vocab) applyConfigIDs(path string) error {
	data, err := readFile(path)
	if errors.Is(err, format.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("tokenizer: %s: %v: %w", path, jsonErr(data, err), format.ErrFormat)
	}
	for _, s := range []struct {
		key string
		dst *int
	}{{"bos_token_id", &v.BOS}, {"eos_token_id", &v.EOS}, {"unk_token_id", &v.UNK}, {"pad_token_id", &v.PAD}} {
		var id int
		if *s.dst >= 0 || json.Unmarshal(cfg[s.key], &id) != nil {
			continue // set already, absent, null or a list
		}
		if id < 0 || id >= len(v.Tokens) {
			return fmt.Errorf("tokenizer: %s: %s %d out of range for %d tokens: %w", path, s.key, id, len(v.Tokens), format.ErrFormat)
		}
		*s.dst = id
	}
	return nil
}
