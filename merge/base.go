package merge

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/resolve"
)

// base is an opened base checkpoint; package resolve maps adapter modules
// onto its tensors.
type base = resolve.Base

// openBase opens a GGUF file (or split set), a safetensors file or a
// Hugging Face directory as a base that merged tensors can be written back
// in the form of.
func openBase(path string) (*base, error) {
	b, err := resolve.Open(path)
	if err != nil {
		return nil, err
	}
	if err := writable(b); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// sourceBase is openBase for a checkpoint the caller opened (and closes):
// a GGUF or safetensors Source.
func sourceBase(src format.Source) (*base, error) {
	b, err := resolve.FromSource("", src)
	if err != nil {
		return nil, err
	}
	if err := writable(b); err != nil {
		return nil, err
	}
	return b, nil
}

// writable refuses a base whose container merged tensors cannot be
// written back into.
func writable(b *base) error {
	if b.Kind == resolve.KindLlama2c {
		return fmt.Errorf("base %s: llama2c checkpoints cannot be written back; convert it to GGUF or safetensors first: %w", b.Name(), format.ErrUnsupported)
	}
	return nil
}
