package merge

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// Input is one adapter to merge or combine, with its user scale (weight):
// 1 merges it as trained, 0.5 at half strength, -1 subtracts it (unmerge).
type Input struct {
	// Path is the adapter: a PEFT or mlx-lm directory, or a llama.cpp LoRA
	// GGUF. It also names the adapter in errors when Adapter is set.
	Path string
	// Scale is the user weight the adapter's update is multiplied by.
	Scale float64
	// Adapter, when non-nil, is used instead of reading Path. Merge and
	// Combine do not modify it.
	Adapter *lora.Adapter
}

// ParseInput parses "PATH[:SCALE]" as the CLI's --adapter flag gives it.
// The scale is the text after the last colon when that text is a number;
// otherwise the whole text is the path and the scale is 1.
func ParseInput(spec string) (Input, error) {
	in := Input{Path: spec, Scale: 1}
	if i := strings.LastIndexByte(spec, ':'); i >= 0 {
		if s, err := strconv.ParseFloat(spec[i+1:], 64); err == nil {
			in.Path, in.Scale = spec[:i], s
		}
	}
	if in.Path == "" {
		return in, fmt.Errorf("adapter %q: empty path: %w", spec, format.ErrNotFound)
	}
	if math.IsNaN(in.Scale) || math.IsInf(in.Scale, 0) {
		return in, fmt.Errorf("adapter %q: scale must be finite: %w", spec, format.ErrInvalidOption)
	}
	return in, nil
}

// Load returns a private copy of the input's adapter (read from Path, or
// cloned from Adapter), validated. Stacked-expert modules are refused.
func (in Input) Load() (*lora.Adapter, error) { return in.load(lora.Open) }

// load returns a private copy of the input's adapter (read from Path with
// open, or cloned from Adapter), validated: shapes consistent and every
// value finite.
func (in Input) load(open func(string) (*lora.Adapter, error)) (*lora.Adapter, error) {
	var a *lora.Adapter
	if in.Adapter != nil {
		a = cloneAdapter(in.Adapter)
		if a.Path == "" {
			a.Path = in.Path
		}
	} else {
		var err error
		if a, err = open(in.Path); err != nil {
			return nil, err
		}
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("adapter %s: %w", in.name(), err)
	}
	for _, m := range a.Modules {
		for _, v := range [][]float32{m.Magnitude, m.Bias} {
			if i := firstNonFinite(v); i >= 0 {
				return nil, fmt.Errorf("adapter %s: module %q: non-finite value %v at %d: %w", in.name(), m.Name, v[i], i, format.ErrFormat)
			}
		}
	}
	return a, nil
}

// name is how errors refer to the input.
func (in Input) name() string {
	if in.Path != "" {
		return in.Path
	}
	if in.Adapter != nil && in.Adapter.Path != "" {
		return in.Adapter.Path
	}
	return "(in memory)"
}

// cloneAdapter deep-copies the parts of an adapter that renaming and scale
// folding modify.
func cloneAdapter(a *lora.Adapter) *lora.Adapter {
	c := *a
	if a.Config != nil {
		c.Config = a.Config.Clone()
	}
	c.Metadata = a.Metadata.Clone()
	c.Modules = make([]*lora.Module, len(a.Modules))
	for i, m := range a.Modules {
		mc := *m
		mc.A = append([]float32(nil), m.A...)
		mc.B = append([]float32(nil), m.B...)
		mc.Magnitude = append([]float32(nil), m.Magnitude...)
		mc.Bias = append([]float32(nil), m.Bias...)
		if m.Magnitude == nil {
			mc.Magnitude = nil
		}
		if m.Bias == nil {
			mc.Bias = nil
		}
		c.Modules[i] = &mc
	}
	c.Saved = append([]lora.Tensor(nil), a.Saved...)
	return &c
}

// firstNonFinite returns the index of the first NaN or ±Inf in v, or -1.
func firstNonFinite(v []float32) int {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i
		}
	}
	return -1
}
