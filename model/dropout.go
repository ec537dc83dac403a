package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/lorakit/lorakit/format"
)

// pcgStateSize is the length of one generator's state as
// (*rand.PCG).MarshalBinary writes it: "pcg:" and two uint64.
const pcgStateSize = 20

// dropoutLinears lists the linears that draw dropout masks, in a fixed
// order (layer, then projection).
func (m *Model) dropoutLinears() []*linear {
	var ls []*linear
	for i := range m.blocks {
		for _, l := range m.blocks[i].linears() {
			if l.src != nil {
				ls = append(ls, l)
			}
		}
	}
	return ls
}

// DropoutState returns the state of the LoRA dropout generators (one per
// adapted projection, added by AddLoRA): what a training checkpoint saves
// so that SetDropoutState, on a model with the same LoRA layers, makes
// every later Forward draw the masks the uninterrupted run would have
// drawn. It is empty when the model has no such layers.
func (m *Model) DropoutState() []byte {
	var out []byte
	for _, l := range m.dropoutLinears() {
		b, err := l.src.MarshalBinary()
		if err != nil || len(b) != pcgStateSize {
			panic(fmt.Sprintf("model: dropout generator of %s: %d bytes, %v", l.name, len(b), err))
		}
		out = append(out, b...)
	}
	return out
}

// SetDropoutState restores the dropout generators from a state that
// DropoutState returned for a model with the same LoRA layers. A state of
// another length or content is refused (wrapping format.ErrFormat) and
// changes nothing.
func (m *Model) SetDropoutState(state []byte) error {
	ls := m.dropoutLinears()
	if len(state) != len(ls)*pcgStateSize {
		return fmt.Errorf("model: dropout state of %d bytes for %d LoRA layers (want %d): %w", len(state), len(ls), len(ls)*pcgStateSize, format.ErrFormat)
	}
	srcs := make([]*rand.PCG, len(ls))
	for i, l := range ls {
		srcs[i] = new(rand.PCG)
		if err := srcs[i].UnmarshalBinary(state[i*pcgStateSize : (i+1)*pcgStateSize]); err != nil {
			return fmt.Errorf("model: dropout state of %s: %v: %w", l.name, err, format.ErrFormat)
		}
	}
	for i, l := range ls {
		*l.src = *srcs[i]
	}
	return nil
}
