package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
)

// Load reads a vocabulary from any file or directory that holds one: a
// Hugging Face model directory (LoadDir), a GGUF file (its tokenizer.*
// metadata), a tokenizer.json (with the tokenizer_config.json beside it,
// if any), a llama2.c tokenizer .bin, or a tokenizer.model (SentencePiece
// or tiktoken ranks). The kind is decided by content where it can be (a
// directory, GGUF's magic), else by the file name.
func Load(path string) (*Vocab, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("tokenizer: %w: %w", err, format.ErrNotFound)
		}
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if st.IsDir() {
		return LoadDir(path)
	}
	if gguf.IsFile(path) {
		r, err := gguf.Open(path)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		v, err := FromMetadata(r.Metadata())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return v, nil
	}
	switch {
	case strings.HasSuffix(path, ".json"):
		v, err := LoadTokenizerJSON(path)
		if err != nil {
			return nil, err
		}
		cfg := filepath.Join(filepath.Dir(path), "tokenizer_config.json")
		data, err := readFile(cfg)
		switch {
		case err == nil:
			err = v.ApplyTokenizerConfig(data, cfg)
		case errors.Is(err, format.ErrNotFound):
			err = nil
		}
		return v, err
	case strings.HasSuffix(path, ".bin"):
		return LoadLlama2C(path, 0)
	}
	return LoadTokenizerModel(path)
}
