package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
