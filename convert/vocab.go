package convert

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/tokenizer"
)

// VocabOnly writes the vocabulary of a Hugging Face model directory as a
// GGUF file without tensors, as llama.cpp's convert_hf_to_gguf.py
// --vocab-only does: general.architecture and the hyperparameters of
// config.json (when the directory has one), general.name (the directory's
// name), and the tokenizer.* keys, the vocabulary padded with unused
// "[PAD<id>]" tokens up to config.json's vocab_size. tokPath, if set,
// overrides the tokenizer files of dir (any file tokenizer.Load reads); dir
// may itself be such a file (a GGUF, a tokenizer.json), whose vocabulary is
// then written alone. A directory without a tokenizer wraps
// format.ErrNotFound.
func VocabOnly(dir, tokPath, out string, force bool) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() && tokPath == "" {
		// A file that holds a vocabulary (GGUF, tokenizer.json, ...).
		tokPath = dir
	}
	var v *tokenizer.Vocab
	var err error
	if tokPath != "" {
		v, err = tokenizer.Load(tokPath)
	} else {
		v, err = loadTokenizer(dir, "", 0)
	}
	if err != nil {
		return err
	}
	if v == nil {
		return fmt.Errorf("%s: no tokenizer (tokenizer.json, tokenizer.model or vocab.json+merges.txt): %w", dir, format.ErrNotFound)
	}
	md := format.Metadata{}
	cfgPath := filepath.Join(dir, "config.json")
	if _, err := os.Stat(cfgPath); err == nil {
		cfg, a, _, err := readHFConfig(dir)
		if err != nil {
			return err
		}
		if n, ok := cfg["vocab_size"].(float64); ok {
			if err := fitVocab(v, int(n), cfgPath); err != nil {
				return err
			}
		} else {
			cfg["vocab_size"] = float64(v.Len())
		}
		params, err := a.GGUFMetadata(cfg, cfgPath)
		if err != nil {
			return err
		}
		md = append(md, format.KV{Key: "general.architecture", Value: a.Name})
		md = append(md, format.KV{Key: "general.name", Value: filepath.Base(filepath.Clean(dir))})
		md = append(md, params...)
	} else {
		md = append(md, format.KV{Key: "general.name", Value: filepath.Base(filepath.Clean(dir))})
	}
	if err := v.CheckGGUF(); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	md = append(md, v.Metadata()...)
	w, err := gguf.Create(out, nil, md, format.CreateOptions{Force: force})
	if err != nil {
		return err
	}
	return w.Close()
}
