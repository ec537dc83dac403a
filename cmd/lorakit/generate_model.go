package main

// Loading a language model for generate, logits, score, eval, imatrix and
// train: the flags, and a thin call of package lm.

import (
	"fmt"

	"github.com/lorakit/lorakit/lm"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/model"
)

// lmOptions are the flags every model-running command shares.
type lmOptions struct {
	adapter   string // PATH[:SCALE]
	tokenizer string
}

// runOptions load a model for inference (see lm.Run).
var runOptions = lm.Run

// openLM loads the model at path ("" for the embedded stories260K) with
// o's tokenizer and adapter (see lm.Open).
func openLM(path string, o lmOptions, mo model.Options) (*lm.LM, error) {
	opt := lm.Options{Tokenizer: o.tokenizer, Model: mo}
	if o.adapter != "" {
		in, err := merge.ParseInput(o.adapter)
		if err != nil {
			return nil, usageError{fmt.Errorf("--adapter: %w", err)}
		}
		opt.Adapters = []merge.Input{in}
	}
	return lm.Open(path, opt)
}

// displayName is how messages name the model at path.
func displayName(path string) string { return lm.DisplayName(path) }
