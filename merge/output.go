package merge

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// WriteAdapter writes a combined or extracted adapter: a llama.cpp LoRA
// GGUF when out ends in ".gguf" (scales folded into one alpha, as
// llama.cpp applies one), otherwise a PEFT directory.
func WriteAdapter(a *lora.Adapter, out string, force bool) error {
	opt := lora.WriteOptions{Force: force, DType: format.F32}
	if !strings.EqualFold(filepath.Ext(out), ".gguf") {
		return lora.WritePEFT(a, out, opt)
	}
	if a.Arch == "" {
		return fmt.Errorf("%s: a GGUF adapter needs the base architecture, which the inputs do not name; write a PEFT directory and convert it with --base: %w", out, format.ErrUnsupported)
	}
	alpha := 0
	for _, m := range a.Modules {
		alpha = max(alpha, m.Rank)
	}
	if err := a.FoldScale(float64(alpha)); err != nil {
		return err
	}
	return lora.WriteGGUF(a, out, opt)
}
