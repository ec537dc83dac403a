package lora

import (
	"fmt"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// Family identifies the architecture of the adapter's base model: a GGUF
// adapter's general.architecture, else its module names and base model
// name (PEFT's base_model_name_or_path, mlx-lm's model) through
// arch.IdentifyAdapter, which refuses an ambiguity rather than guess (a
// RoPE permutation applied to a Qwen or Gemma adapter corrupts it).
func (a *Adapter) Family() (*arch.Family, error) {
	if a.Arch != "" {
		f, err := arch.Lookup(a.Arch)
		if err != nil {
			return nil, fmt.Errorf("lora: %s: %w", a.where(), err)
		}
		return f, nil
	}
	if a.Kind == KindGGUF {
		return nil, fmt.Errorf("lora: %s: GGUF adapter without general.architecture; give --arch: %w", a.where(), format.ErrUnsupported)
	}
	var names []string
	for _, m := range a.Modules {
		if !m.Param { // fused expert parameters are named alike in every MoE family
			names = append(names, m.Name)
		}
	}
	base := ""
	if a.Config != nil {
		base = a.Config.BaseModel
	}
	f, err := arch.IdentifyAdapter(names, base)
	if err != nil {
		return nil, fmt.Errorf("lora: %s: %w", a.where(), err)
	}
	return f, nil
}
