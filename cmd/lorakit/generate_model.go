package main

// Loading a language model for generate, logits and score: the checkpoint
// (or the embedded stories260K), its tokenizer and an optional adapter.

import (
	"fmt"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
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

// runOptions load a model for inference: frozen quantized or
// half-precision weights stay in their type.
var runOptions = model.Options{KeepQuantized: true}

// openLM loads the model at path ("" for the embedded stories260K) with mo:
// a GGUF file, a llama2.c checkpoint (tokenizer beside it: tokenizer.model,
// tok*.model, tokenizer.bin, tok*.bin) or a Hugging Face directory, with
// o's tokenizer and adapter.
func openLM(path string, o lmOptions, mo model.Options) (*lm, error) {
	src, vocab, err := openSource(path, o.tokenizer)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	m, err := model.Load(src, mo)
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
		if err := applyAdapter(m, src, o.adapter); err != nil {
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

// openSource opens a checkpoint with llama.cpp names and finds its
// vocabulary (nil if none): tokPath when given, else the one that comes
// with the checkpoint (see convert.OpenModel).
func openSource(path, tokPath string) (format.Source, *tokenizer.Vocab, error) {
	if path != "" {
		if kind, _, err := lora.Detect(path); err == nil {
			return nil, nil, fmt.Errorf("%s: a LoRA adapter (%s), not a model: give it with --adapter: %w", path, kind, format.ErrUnsupported)
		}
		return convert.OpenModel(path, tokPath)
	}
	src, err := embedded.Source()
	if err != nil {
		return nil, nil, err
	}
	v, err := embedded.Vocab()
	if tokPath != "" {
		v, err = convert.LoadTokenizer(tokPath)
	}
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, v, nil
}

// applyAdapter reads --adapter PATH[:SCALE] and attaches it to m at run
// time, as llama.cpp's --lora-scaled does (scale 1 when not given); base is
// the checkpoint m was loaded from, whose names and heads the adapter is
// mapped to.
func applyAdapter(m *model.Model, base format.Source, spec string) error {
	in, err := merge.ParseInput(spec)
	if err != nil {
		return usageError{fmt.Errorf("--adapter: %w", err)}
	}
	path, scale := in.Path, in.Scale
	a, err := lora.Open(path)
	if err != nil {
		return err
	}
	if err := convert.ToGGUFNamesFor(a, base); err != nil {
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
