package lora

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// Adapter is a LoRA adapter held in memory: its PEFT-style config, its
// adapted modules in file order, and the full tensors it replaces
// (modules_to_save). Names are kept as the file has them; mapping them to
// another naming scheme is package convert's job.
type Adapter struct {
	// Config describes the adapter in PEFT's terms. For GGUF and MLX
	// adapters it is synthesised from the file (rank, alpha, dropout).
	Config *Config
	// Modules are the A/B pairs, in the order their first tensor appears.
	Modules []*Module
	// Saved are full tensors the adapter carries (PEFT modules_to_save such as
	// lm_head.weight, or other non-LoRA tensors), named without PEFT's prefix.
	Saved []Tensor

	// Kind is where the adapter came from: KindPEFT, KindGGUF or KindMLX.
	Kind Kind
	// Path is the file or directory it was read from ("" if built in memory).
	Path string
	// Arch is the base model's architecture when the file says
	// (general.architecture in a GGUF adapter), else "".
	Arch string
	// DType is the element type the LoRA tensors were stored in.
	DType format.DType
	// Metadata holds container metadata kept for rewriting (GGUF keys other
	// than the adapter keys lorakit writes itself, e.g. general.name).
	Metadata format.Metadata
}

// Kind names an adapter file layout.
type Kind string

// The adapter layouts lorakit reads.
const (
	KindPEFT Kind = "peft" // adapter_config.json + adapter_model.safetensors
	KindGGUF Kind = "gguf" // llama.cpp LoRA GGUF
	KindMLX  Kind = "mlx"  // mlx-lm adapters.safetensors + adapter_config.json
)

// Tensor is a full tensor carried by an adapter, as raw little-endian bytes.
type Tensor struct {
	Name  string
	DType format.DType
	Shape []int64
	Data  []byte
}

// Module returns the module named name, or nil.
func (a *Adapter) Module(name string) *Module {
	for _, m := range a.Modules {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Validate checks every module (see Module.Validate) and that names are
// unique. Errors name the adapter's path and the module.
func (a *Adapter) Validate() error {
	seen := make(map[string]bool, len(a.Modules))
	for _, m := range a.Modules {
		if seen[m.Name] {
			return fmt.Errorf("lora: %s: module %q appears twice: %w", a.where(), m.Name, format.ErrFormat)
		}
		seen[m.Name] = true
		if err := m.Validate(); err != nil {
			return fmt.Errorf("lora: %s: %w", a.where(), err)
		}
	}
	return nil
}

func (a *Adapter) where() string {
	if a.Path == "" {
		return "adapter"
	}
	return a.Path
}

// FoldScale rescales every module to the given alpha without changing its
// update: B is multiplied by Scale()/(alpha/Rank), Alpha becomes alpha and
// RSLoRA false. llama.cpp applies one alpha divided by each tensor's rank,
// so rsLoRA adapters and adapters with an alpha_pattern must be folded
// before they are written as GGUF.
func (a *Adapter) FoldScale(alpha float64) error {
	if alpha == 0 || math.IsNaN(alpha) || math.IsInf(alpha, 0) {
		return fmt.Errorf("lora: %s: cannot fold scales into alpha %v: %w", a.where(), alpha, format.ErrUnsupported)
	}
	for _, m := range a.Modules {
		if m.Rank <= 0 {
			return fmt.Errorf("lora: %s: module %q: rank %d: %w", a.where(), m.Name, m.Rank, format.ErrShape)
		}
		f := m.Scale() / (alpha / float64(m.Rank))
		if f != 1 {
			for i := range m.B {
				m.B[i] = float32(float64(m.B[i]) * f)
			}
		}
		m.Alpha, m.RSLoRA = alpha, false
	}
	return nil
}

// SyncConfig makes Config describe Modules and Saved the way PEFT reads
// them: every module is targeted, its rank and alpha resolve to the
// module's (exact-name rank_pattern / alpha_pattern entries are added, first,
// where the defaults do not fit), use_dora, lora_bias and fan_in_fan_out
// follow the modules, and saved tensors' modules are in modules_to_save.
// A nil Config is created from the first module. It fails when the modules
// disagree in a way one PEFT config cannot express.
func (a *Adapter) SyncConfig() error {
	if a.Config == nil {
		a.Config = NewConfig(defaultR, defaultAlpha)
		if len(a.Modules) > 0 {
			a.Config.R, a.Config.LoraAlpha = a.Modules[0].Rank, a.Modules[0].Alpha
			a.Config.UseRSLoRA = a.Modules[0].RSLoRA
		}
	}
	c := a.Config
	var rankPre, alphaPre []PatternEntry
	dora, bias, fifo := 0, 0, 0
	for _, m := range a.Modules {
		if m.Param {
			i := strings.LastIndexByte(m.Name, '.')
			if !slices.Contains(targetedParams(m.Name[:max(0, i)], c.TargetParameters), m.Name[i+1:]) {
				c.TargetParameters = append(c.TargetParameters, m.Name)
			}
		} else if ok, err := c.Targets(m.Name); err != nil {
			return fmt.Errorf("lora: %s: %w", a.where(), err)
		} else if !ok {
			c.TargetModules.Add(m.Name)
		}
		key := regexp.QuoteMeta(m.Name)
		if r, err := c.ModuleRank(m.Name); err != nil {
			return fmt.Errorf("lora: %s: %w", a.where(), err)
		} else if r != m.Rank {
			rankPre = append(rankPre, PatternEntry{key, float64(m.Rank)})
		}
		alpha := m.Alpha
		if m.RSLoRA != c.UseRSLoRA {
			alpha = m.Scale() * float64(m.Rank) // plain LoRA: s = alpha/r
			if c.UseRSLoRA {
				alpha = m.Scale() * math.Sqrt(float64(m.Rank))
			}
		}
		if al, err := c.ModuleAlpha(m.Name); err != nil {
			return fmt.Errorf("lora: %s: %w", a.where(), err)
		} else if al != alpha {
			alphaPre = append(alphaPre, PatternEntry{key, alpha})
		}
		if m.Magnitude != nil {
			dora++
		}
		if m.Bias != nil {
			bias++
		}
		if m.FanInFanOut {
			fifo++
		}
	}
	prepend(&c.RankPattern, rankPre)
	prepend(&c.AlphaPattern, alphaPre)
	n := len(a.Modules)
	if dora != 0 && dora != n {
		return fmt.Errorf("lora: %s: %d of %d modules have a DoRA magnitude; PEFT applies DoRA to all or none: %w", a.where(), dora, n, format.ErrUnsupported)
	}
	if fifo != 0 && fifo != n {
		return fmt.Errorf("lora: %s: %d of %d modules are fan_in_fan_out; one PEFT config cannot mix them: %w", a.where(), fifo, n, format.ErrUnsupported)
	}
	if n > 0 {
		c.UseDoRA, c.FanInFanOut, c.LoraBias = dora == n, fifo == n, bias > 0
	}
	for _, t := range a.Saved {
		mod := t.Name
		if i := strings.LastIndexByte(mod, '.'); i > 0 {
			mod = mod[:i] // lm_head.weight -> lm_head
		}
		if !slices.ContainsFunc(c.ModulesToSave, func(e string) bool { return savedBy(mod, e) }) {
			c.ModulesToSave = append(c.ModulesToSave, mod)
		}
	}
	return nil
}

// savedBy reports whether modules_to_save entry e covers module path mod:
// the module itself or one inside it ("classifier" saves
// classifier.out_proj), matched on whole path components as PEFT matches.
func savedBy(mod, e string) bool {
	m := "." + mod + "."
	return strings.Contains(m, "."+e+".")
}

// prepend puts entries first in p, in their order.
func prepend(p *Pattern, entries []PatternEntry) {
	for i := len(entries) - 1; i >= 0; i-- {
		p.Prepend(entries[i].Key, entries[i].Value)
	}
}

// commonRank is the most frequent module rank (the first on ties), or 0.
func commonRank(mods []*Module) int {
	count := map[int]int{}
	best := 0
	for _, m := range mods {
		count[m.Rank]++
		if best == 0 || count[m.Rank] > count[best] {
			best = m.Rank
		}
	}
	return best
}
