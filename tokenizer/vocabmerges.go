package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lorakit/lorakit/format"
)

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
