package convert

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/lorakit/lorakit/format"
)

// Arch is one model family's mapping between Hugging Face checkpoints and
// llama.cpp's GGUF: hyperparameters (config.json fields by JSON name), tensor
// names, and the per-tensor transforms that change layout between the two.
// Each family is a small table in its own file (arch_gpt2.go, arch_llama.go).
type Arch struct {
	// Name is GGUF's general.architecture, also the prefix of its
	// hyperparameter keys ("gpt2" -> "gpt2.block_count").
	Name string
	// ModelTypes are the config.json "model_type" values this table reads.
	ModelTypes []string
	// HFClass is written as config.json "architectures" on export.
	HFClass string
	// HFModelType is written as config.json "model_type" on export.
	HFModelType string
	// Params map config.json fields to GGUF keys, in GGUF key order.
	Params []Param
	// Tensors map tensor names; "{L}" stands for the layer number.
	Tensors []TensorName
	// HFPrefixes are optional prefixes of HF tensor names that are stripped
	// on import (GPT-2 checkpoints may or may not carry "transformer.").
	HFPrefixes []string
	// HFSkip matches HF tensors that are buffers, not weights (attention
	// masks, rotary tables): dropped on import.
	HFSkip *regexp.Regexp
	// Extra writes fixed config.json fields on export.
	Extra map[string]any
}

// Param maps one config.json field to one GGUF hyperparameter.
type Param struct {
	// JSON is the config.json field; Key the GGUF key without the arch prefix.
	JSON, Key string
	// Type is the GGUF value type: "u32" or "f32".
	Type string
	// Default computes the value when config.json lacks the field (or has
	// null); nil makes the field required.
	Default func(cfg map[string]float64) (float64, bool)
}

// TensorName maps one HF tensor name to its GGUF name, with the transform
// applied on the way to GGUF (its inverse is applied on the way back).
type TensorName struct {
	HF, GGUF  string
	Transform Transform
}

// Transform is a layout change between an HF tensor and its GGUF form.
type Transform int

// The layout changes.
const (
	None Transform = iota
	// Transpose swaps the two dimensions: GPT-2's Conv1D stores weights
	// [in, out] where llama.cpp wants [out, in].
	Transpose
	// RopeQ and RopeK reorder the rows of q/k projections (and their LoRA
	// B) from HF's half-split rotary layout to llama.cpp's adjacent pairs,
	// per attention head (RopeQ) or per key/value head (RopeK).
	RopeQ
	RopeK
)

var archs = map[string]*Arch{}

func register(a *Arch) *Arch {
	archs[a.Name] = a
	return a
}

// LookupArch returns the table for a GGUF architecture name.
func LookupArch(name string) (*Arch, error) {
	if a, ok := archs[name]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("architecture %q: %w (known: %s)", name, format.ErrUnsupported, strings.Join(ArchNames(), ", "))
}

// ArchForModelType returns the table reading config.json's model_type.
func ArchForModelType(modelType string) (*Arch, error) {
	for _, a := range archs {
		for _, mt := range a.ModelTypes {
			if mt == modelType {
				return a, nil
			}
		}
	}
	return nil, fmt.Errorf("config.json model_type %q: %w (lorakit converts %s)", modelType, format.ErrUnsupported, strings.Join(ArchNames(), ", "))
}

// ArchNames lists the known architectures.
func ArchNames() []string {
	var names []string
	for n := range archs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var (
	patternsMu sync.Mutex
	patterns   = map[string]*regexp.Regexp{}
)

// namePattern turns "blk.{L}.attn_q.weight" into a regexp capturing L
// (compiled once per pattern).
func namePattern(p string) *regexp.Regexp {
	patternsMu.Lock()
	defer patternsMu.Unlock()
	if re, ok := patterns[p]; ok {
		return re
	}
	q := regexp.QuoteMeta(p)
	q = strings.ReplaceAll(q, `\{L\}`, `(\d+)`)
	re := regexp.MustCompile("^" + q + "$")
	patterns[p] = re
	return re
}

// mapName finds name among the from-side patterns of a's tensor table and
// returns the to-side name and the entry. toGGUF selects the direction.
func (a *Arch) mapName(name string, toGGUF bool) (string, TensorName, bool) {
	for _, tn := range a.Tensors {
		from, to := tn.HF, tn.GGUF
		if !toGGUF {
			from, to = to, from
		}
		m := namePattern(from).FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if len(m) > 1 {
			to = strings.ReplaceAll(to, "{L}", m[1])
		}
		return to, tn, true
	}
	return "", TensorName{}, false
}

// GGUFName maps an HF tensor (or module) name to llama.cpp's name. Module
// names (no ".weight"/".bias" suffix) map by adding and removing ".weight".
func (a *Arch) GGUFName(hf string) (string, TensorName, bool) {
	for _, p := range a.HFPrefixes {
		if rest, ok := strings.CutPrefix(hf, p); ok {
			if to, tn, ok := a.mapName(rest, true); ok {
				return to, tn, true
			}
		}
	}
	return a.mapName(hf, true)
}

// HFName maps a GGUF tensor name back to its Hugging Face name.
func (a *Arch) HFName(gguf string) (string, TensorName, bool) {
	return a.mapName(gguf, false)
}

// layerOf returns the layer number in a GGUF name like blk.7.attn_q.weight.
func layerOf(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest[:max(0, strings.IndexByte(rest, '.'))])
	return n, err == nil
}

// DetectArch names the architecture of a checkpoint: its
// general.architecture metadata, else the table under which every tensor
// name maps (HF names) or is known (GGUF names); "" if none fits.
func DetectArch(src format.Source) string {
	if name, ok := src.Metadata().String("general.architecture"); ok {
		return name
	}
	infos := src.Tensors()
	if len(infos) == 0 {
		return ""
	}
	for _, name := range ArchNames() {
		a := archs[name]
		all := true
		for _, t := range infos {
			_, _, hf := a.GGUFName(t.Name)
			_, _, gg := a.HFName(t.Name)
			skip := a.HFSkip != nil && a.HFSkip.MatchString(t.Name)
			if !hf && !gg && !skip {
				all = false
				break
			}
		}
		if all {
			return name
		}
	}
	return ""
}
