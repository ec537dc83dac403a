package main

// Loading a language model for generate, logits and score: the checkpoint
// (or the embedded stories260K), its tokenizer and an optional adapter.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/llama2c"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/embedded"
	"github.com/lorakit/lorakit/tokenizer"
)

// lmOptions are the flags every model-running command shares.
type lmOptions struct {
	adapter   string // PATH[:SCALE]
	tokenizer string
}

// lm is a loaded language model and its tokenizer (nil if none was found).
type lm struct {
	name string
	m    *model.Model
	tok  *tokenizer.Tokenizer
}

// openLM loads the model at path ("" for the embedded stories260K): a GGUF
// file, a llama2.c checkpoint (tokenizer beside it: tokenizer.model,
// tok*.model, tokenizer.bin, tok*.bin) or a Hugging Face directory, with
// o's tokenizer and adapter. Frozen quantized or half-precision weights
// stay in their type.
func openLM(path string, o lmOptions) (*lm, error) {
	src, vocab, err := openSource(path, o.tokenizer)
	if err != nil {
		return nil, err
	}
	m, err := model.Load(src, model.Options{KeepQuantized: true})
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", displayName(path), err)
	}
	l := &lm{name: displayName(path), m: m}
	if vocab != nil {
		if vocab.Len() > m.Config.Vocab {
			return nil, fmt.Errorf("%s: tokenizer has %d tokens, the model %d: %w", l.name, vocab.Len(), m.Config.Vocab, format.ErrShape)
		}
		if l.tok, err = tokenizer.New(vocab); err != nil {
			return nil, fmt.Errorf("%s: %w", l.name, err)
		}
	}
	if o.adapter != "" {
		if err := applyAdapter(m, path, o.adapter); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func displayName(path string) string {
	if path == "" {
		return embedded.Name + " (embedded)"
	}
	return path
}

// openSource opens a checkpoint and finds its vocabulary (nil if none):
// tokPath when given, else the one that comes with the checkpoint.
func openSource(path, tokPath string) (format.Source, *tokenizer.Vocab, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() && convert.IsHFDir(path) {
		hf, err := convert.OpenHF(path, tokPath)
		if err != nil {
			return nil, nil, err
		}
		src, err := hf.GGUFSource()
		if err != nil {
			hf.Close()
			return nil, nil, err
		}
		return src, hf.Vocab, nil
	}
	var src format.Source
	var err error
	if path == "" {
		src, err = embedded.Source()
	} else {
		src, err = format.Open(path)
	}
	if err != nil {
		return nil, nil, err
	}
	var v *tokenizer.Vocab
	switch r, isLlama2c := src.(*llama2c.Reader); {
	case tokPath != "":
		v, err = loadVocab(tokPath, 0)
	case path == "":
		v, err = embedded.Vocab()
	case isLlama2c:
		v, err = llama2cVocab(path, r.Config().Vocab)
	default:
		if v, err = tokenizer.FromMetadata(src.Metadata()); errors.Is(err, format.ErrNotFound) {
			v, err = nil, nil
		} else if err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		}
	}
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, v, nil
}

// llama2cVocab finds the tokenizer beside a llama2.c checkpoint, as
// lorakit convert does; nil if there is none.
func llama2cVocab(path string, n int) (*tokenizer.Vocab, error) {
	dir := filepath.Dir(path)
	for _, pattern := range []string{"tokenizer.model", "tok*.model", "tokenizer.bin", "tok*.bin"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, p := range matches {
			if p != path {
				return loadVocab(p, n)
			}
		}
	}
	return nil, nil
}

// loadVocab reads a tokenizer file: tokenizer.json, a llama2.c
// tokenizer .bin of n tokens (n <= 0: all), or a SentencePiece .model.
func loadVocab(path string, n int) (*tokenizer.Vocab, error) {
	switch {
	case strings.HasSuffix(path, ".json"):
		return tokenizer.LoadTokenizerJSON(path)
	case strings.HasSuffix(path, ".bin"):
		return tokenizer.LoadLlama2C(path, n)
	}
	return tokenizer.LoadSentencePiece(path)
}

// applyAdapter reads --adapter PATH[:SCALE] and attaches it to m at run
// time, as llama.cpp's --lora-scaled does (scale 1 when not given).
func applyAdapter(m *model.Model, basePath, spec string) error {
	path, scale := spec, 1.0
	if i := strings.LastIndexByte(spec, ':'); i > 0 {
		if s, err := strconv.ParseFloat(spec[i+1:], 64); err == nil {
			path, scale = spec[:i], s
		}
	}
	a, err := lora.Open(path)
	if err != nil {
		return err
	}
	if err := convert.ToGGUFNames(a, basePath); err != nil {
		return err
	}
	if err := m.ApplyAdapter(a, scale); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// needTokenizer returns l's tokenizer or an error saying how to give one.
func (l *lm) needTokenizer() (*tokenizer.Tokenizer, error) {
	if l.tok == nil {
		return nil, fmt.Errorf("%s: no tokenizer found: give --tokenizer: %w", l.name, format.ErrNotFound)
	}
	return l.tok, nil
}
