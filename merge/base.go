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
	if b.Kind == resolve.KindLlama2c {
		b.Close()
		return nil, fmt.Errorf("base %s: llama2c checkpoints cannot be written back; convert it to GGUF or safetensors first: %w", path, format.ErrUnsupported)
	}
	return b, nil
}
