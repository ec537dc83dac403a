package main

// Loading a language model for generate, logits and score: the checkpoint
// (or the embedded stories260K), its tokenizer and an optional adapter, by
// package lm; here only the flags and their errors.

import (
	"fmt"

	lmpkg "github.com/lorakit/lorakit/lm"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/model"
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
var runOptions = lmpkg.RunOptions

// openLM loads the model at path ("" for the embedded stories260K) with mo
// and o's tokenizer and adapter (see lm.Load). A malformed --adapter
// PATH[:SCALE] is a usage error.
func openLM(path string, o lmOptions, mo model.Options) (*lm, error) {
	opts := lmpkg.Options{Tokenizer: o.tokenizer, Model: mo}
	if o.adapter != "" {
		in, err := merge.ParseInput(o.adapter)
		if err != nil {
			return nil, usageError{fmt.Errorf("--adapter: %w", err)}
		}
		opts.Adapter, opts.AdapterScale = in.Path, in.Scale
	}
	l, err := lmpkg.Load(path, opts)
	if err != nil {
		return nil, err
	}
	return &lm{name: l.Name, m: l.Model, tok: l.Tokenizer}, nil
}

// needTokenizer returns l's tokenizer or an error saying how to give one.
func (l *lm) needTokenizer() (*tokenizer.Tokenizer, error) {
	return (&lmpkg.LM{Name: l.name, Model: l.m, Tokenizer: l.tok}).NeedTokenizer()
}
