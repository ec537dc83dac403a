package train

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/train/data"
)

// Prepared is a data set checked for a model.
type Prepared struct {
	Examples []data.Example
	Tokens   int // tokens in all examples
}

// Prepare checks examples (built by data.Builder for a context of seq
// tokens) against a model's vocabulary of vocab tokens: an empty set, a
// token out of range, an example longer than seq+1 tokens or one with no
// completion token is an error naming the example's line (what names the
// set).
func Prepare(examples []data.Example, seq, vocab int, what string) (*Prepared, error) {
	if len(examples) == 0 {
		return nil, fmt.Errorf("train: %s: no examples: %w", what, format.ErrNotFound)
	}
	p := &Prepared{Examples: examples}
	for i, e := range examples {
		where := fmt.Sprintf("%s: example %d (line %d)", what, i+1, e.Line)
		for j, id := range e.Tokens {
			if id < 0 || id >= vocab {
				return nil, fmt.Errorf("train: %s: token %d is %d, the vocabulary has %d: %w", where, j, id, vocab, format.ErrFormat)
			}
		}
		switch {
		case len(e.Tokens) > seq+1:
			return nil, fmt.Errorf("train: %s: %d tokens, longer than the context of %d (+1): %w", where, len(e.Tokens), seq, format.ErrShape)
		case e.Prompt < 1 || e.Prompt >= len(e.Tokens):
			return nil, fmt.Errorf("train: %s: no completion token to learn (%d tokens, prompt %d): %w", where, len(e.Tokens), e.Prompt, format.ErrFormat)
		}
		p.Tokens += len(e.Tokens)
	}
	return p, nil
}

// toModel converts a padded data.Batch into the model's form: padding
// and prompt positions do not count.
func toModel(b data.Batch, smoothing float32) model.Batch {
	mask := make([]bool, len(b.Mask))
	for i, m := range b.Mask {
		mask[i] = m != 0
	}
	return model.Batch{B: b.B, T: b.T, Tokens: b.Inputs, Targets: b.Targets, Mask: mask, LabelSmoothing: smoothing}
}

// realTokens counts the non-padding positions of b.
func realTokens(b data.Batch) int {
	n := 0
	for _, l := range b.Lengths {
		n += l
	}
	return n
}
