package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/lorakit/lorakit/format"
)

// LoadDir reads the tokenizer of a Hugging Face model directory: a
// tokenizer.model if there is one (SentencePiece, as llama.cpp's converter
// prefers it, or Llama 3's tiktoken ranks), else tokenizer.json, else
// vocab.json + merges.txt (+ added_tokens.json). The special tokens, flags
// and chat template of special_tokens_map.json and tokenizer_config.json
// are applied on top, in that order, then config.json's *_token_id where
// none was named, a chat_template.jinja (when
// tokenizer_config.json has no template) and the end-of-generation ids of
// generation_config.json. A directory with none of the tokenizer files
// wraps format.ErrNotFound.
func LoadDir(dir string) (*Vocab, error) {
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}
	var v *Vocab
	var err error
	switch {
	case exists("tokenizer.model"):
		v, err = LoadTokenizerModel(filepath.Join(dir, "tokenizer.model"))
	case exists("tokenizer.json"):
		v, err = LoadTokenizerJSON(filepath.Join(dir, "tokenizer.json"))
	case exists("vocab.json") && exists("merges.txt"):
		v, err = LoadGPT2(filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt"))
		if err == nil {
			err = v.preFromTokenizerClass(filepath.Join(dir, "tokenizer_config.json"))
		}
		if err == nil && exists("added_tokens.json") {
			err = v.applyAddedTokensJSON(filepath.Join(dir, "added_tokens.json"))
		}
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
	if err := v.applyConfigIDs(filepath.Join(dir, "config.json")); err != nil {
		return nil, err
	}
	if v.ChatTemplate == "" {
		data, err := readFile(filepath.Join(dir, "chat_template.jinja"))
		switch {
		case err == nil:
			v.ChatTemplate = string(data)
		case !errors.Is(err, format.ErrNotFound):
			return nil, err
		}
	}
	path := filepath.Join(dir, "generation_config.json")
	if data, err := readFile(path); err == nil {
		if err := v.ApplyGenerationConfig(data, path); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, format.ErrNotFound) {
		return nil, err
	}
	return v, nil
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

// LoadTokenizerModel reads a tokenizer.model: a SentencePiece model, or
// (text of "base64 rank" lines) the tiktoken ranks of Llama 3's original
// release.
func LoadTokenizerModel(path string) (*Vocab, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	if looksTiktoken(data) {
		return ParseTiktoken(data, path)
	}
	return ParseSentencePiece(data, path)
}

// slowTokenizerPre names the pre-tokenizer of transformers' slow BPE
// tokenizer classes, which read vocab.json + merges.txt with the pattern
// and normalizer written in their code.
var slowTokenizerPre = map[string]struct {
	pre   string
	norms []Normalizer
}{
	"GPT2Tokenizer": {pre: "gpt-2"}, "GPT2TokenizerFast": {pre: "gpt-2"},
	"CodeGenTokenizer": {pre: "gpt-2"}, "CodeGenTokenizerFast": {pre: "gpt-2"},
	"Qwen2Tokenizer": {pre: "qwen2", norms: []Normalizer{{Type: "NFC"}}}, "Qwen2TokenizerFast": {pre: "qwen2", norms: []Normalizer{{Type: "NFC"}}},
}

// preFromTokenizerClass sets the pre-tokenizer of a vocab.json +
// merges.txt directory from tokenizer_config.json's tokenizer_class: GPT-2's
// when the directory says nothing (the files' original form), refused
// (format.ErrUnsupported) for a class whose splitting lorakit does not know,
// or with add_prefix_space set, rather than guessed.
func (v *Vocab) preFromTokenizerClass(path string) error {
	data, err := readFile(path)
	if errors.Is(err, format.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var cfg struct {
		Class          *string `json:"tokenizer_class"`
		AddPrefixSpace *bool   `json:"add_prefix_space"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("tokenizer: %s: %v: %w", path, jsonErr(data, err), format.ErrFormat)
	}
	if cfg.AddPrefixSpace != nil && *cfg.AddPrefixSpace {
		return fmt.Errorf("tokenizer: %s: add_prefix_space: %w", path, format.ErrUnsupported)
	}
	if cfg.Class == nil {
		return nil
	}
	c, ok := slowTokenizerPre[*cfg.Class]
	if !ok {
		return fmt.Errorf("tokenizer: %s: tokenizer_class %q with vocab.json + merges.txt: %w (its pre-tokenizer is not known; a tokenizer.json would say)", path, *cfg.Class, format.ErrUnsupported)
	}
	v.Pre, v.Normalizers = c.pre, c.norms
	return nil
}

// applyAddedTokensJSON adds the tokens of an added_tokens.json
// ({"content": id}) as user-defined tokens (control when they look special).
func (v *Vocab) applyAddedTokensJSON(path string) error {
	data, err := readFile(path)
	if err != nil {
		return err
	}
	var m map[string]int
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("tokenizer: %s: %v: %w", path, jsonErr(data, err), format.ErrFormat)
	}
	vocab := make(map[string]int, len(v.Tokens))
	var added []addedToken
	for id, t := range v.Tokens {
		if v.Type(id) == Normal {
			vocab[t] = id
		} else if v.Type(id) != Unused {
			added = append(added, addedToken{ID: id, Content: t, Special: v.Type(id) == Control})
		}
	}
	for t, id := range m {
		added = append(added, addedToken{ID: id, Content: t})
	}
	if err := v.setTokens(vocab, added); err != nil {
		return fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	v.guessSpecialIDs()
	return nil
}

// ApplyGenerationConfig reads the eos_token_id of a generation_config.json
// (an id or a list of ids). Every listed id ends generation (EOG); each is
// also named to llama.cpp: "<|eom_id|>" as EOM, an end-of-turn token as
// EOT, and an id that llama.cpp would not recognise by its text as EOT or
// EOM while those are free. A malformed file or an id out of range wraps
// format.ErrFormat; name is used in errors.
func (v *Vocab) ApplyGenerationConfig(data []byte, name string) error {
	var cfg struct {
		EOS json.RawMessage `json:"eos_token_id"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("tokenizer: %s: %v: %w", name, jsonErr(data, err), format.ErrFormat)
	}
	if len(cfg.EOS) == 0 || string(cfg.EOS) == "null" {
		return nil
	}
	var ids []int
	var one int
	if err := json.Unmarshal(cfg.EOS, &one); err == nil {
		ids = []int{one}
	} else if err := json.Unmarshal(cfg.EOS, &ids); err != nil {
		return fmt.Errorf("tokenizer: %s: eos_token_id %s is not an id or a list of ids: %w", name, cfg.EOS, format.ErrFormat)
	}
	for _, id := range ids {
		if id < 0 || id >= len(v.Tokens) {
			return fmt.Errorf("tokenizer: %s: eos_token_id %d out of range for %d tokens: %w", name, id, len(v.Tokens), format.ErrFormat)
		}
	}
	if v.EOS < 0 && len(ids) > 0 {
		v.EOS = ids[0]
	}
	for _, id := range ids {
		if !slices.Contains(v.EOG, id) {
			v.EOG = append(v.EOG, id)
		}
	}
	for _, id := range ids {
		text := v.Tokens[id]
		switch {
		case id == v.EOT || id == v.EOM:
		case slices.Contains(eotTexts, text):
			if v.EOT < 0 { // also when it is EOS: llama.cpp then needs no guess
				v.EOT = id
			}
		case id == v.EOS:
		case text == "<|eom_id|>":
			if v.EOM < 0 {
				v.EOM = id
			}
		case slices.Contains(eogTexts, text):
			// llama.cpp adds it to its end-of-generation set by its text.
		case v.EOT < 0:
			v.EOT = id
		case v.EOM < 0:
			v.EOM = id
		}
	}
	return nil
}

// eotTexts are the end-of-turn tokens lorakit names as EOT, and eogTexts
// the texts llama.cpp puts in its end-of-generation set by themselves
// (llama-vocab.cpp).
var (
	eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<EOT>", "<|EOT|>"}
	eogTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
		"<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
		"<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>"}
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
