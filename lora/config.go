package lora

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/lorakit/lorakit/format"
)

// Config is a PEFT adapter_config.json for a LoRA adapter. The fields PEFT
// uses to build and scale the adapter are typed; every other key of the file
// is kept as read and written back unchanged (PEFT adds keys in every
// release, and older PEFT refuses keys it does not know, so lorakit neither
// drops nor invents them).
type Config struct {
	PeftType      string // "LORA"
	TaskType      string // "CAUSAL_LM", ... ("" is JSON null)
	BaseModel     string // base_model_name_or_path ("" is null)
	Revision      string // "" is null
	InferenceMode bool

	R           int     // default rank
	LoraAlpha   float64 // default alpha (PEFT types it int; floats exist in the wild)
	LoraDropout float64
	UseRSLoRA   bool // scale alpha/sqrt(r) instead of alpha/r
	UseDoRA     bool
	LoraBias    bool   // lora_B has a bias
	Bias        string // "none", "all", "lora_only"
	FanInFanOut bool   // the base layer stores its weight (in, out): GPT-2 Conv1D

	TargetModules Targets
	// TargetParameters are parameters adapted directly (PEFT's
	// target_parameters, e.g. "mlp.experts.gate_up_proj"); nil is null.
	TargetParameters  []string
	ExcludeModules    Targets
	ModulesToSave     []string // nil is null
	LayersToTransform []int    // nil is null
	LayersPattern     []string // nil is null
	RankPattern       Pattern
	AlphaPattern      Pattern

	// InitLoraWeights is true, false or a method name ("gaussian", "pissa", ...).
	InitLoraWeights any

	raw map[string]json.RawMessage // every key as read
}

// PEFT's defaults (LoraConfig).
const (
	defaultR     = 8
	defaultAlpha = 8
)

// maxConfigBytes bounds the adapter_config.json lorakit reads.
const maxConfigBytes = 16 << 20

// NewConfig returns a LoRA config with PEFT's defaults and rank r, alpha.
func NewConfig(r int, alpha float64) *Config {
	return &Config{PeftType: "LORA", R: r, LoraAlpha: alpha, Bias: "none", InitLoraWeights: true, InferenceMode: true}
}

// ParseConfig parses an adapter_config.json. Errors wrap format.ErrFormat
// (malformed JSON or a field of the wrong type) or format.ErrUnsupported (a
// PEFT method other than LoRA).
func ParseConfig(data []byte) (*Config, error) {
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("adapter config is %d bytes, more than %d: %w", len(data), maxConfigBytes, format.ErrFormat)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("adapter config: %v: %w", err, format.ErrFormat)
	}
	if raw == nil {
		return nil, fmt.Errorf("adapter config: not a JSON object: %w", format.ErrFormat)
	}
	c := &Config{R: defaultR, LoraAlpha: defaultAlpha, Bias: "none", InitLoraWeights: true, raw: raw}
	fields := []struct {
		key string
		dst any
	}{
		{"peft_type", &c.PeftType}, {"task_type", &c.TaskType}, {"base_model_name_or_path", &c.BaseModel},
		{"revision", &c.Revision}, {"inference_mode", &c.InferenceMode},
		{"r", &c.R}, {"lora_alpha", &c.LoraAlpha}, {"lora_dropout", &c.LoraDropout},
		{"use_rslora", &c.UseRSLoRA}, {"use_dora", &c.UseDoRA}, {"lora_bias", &c.LoraBias},
		{"bias", &c.Bias}, {"fan_in_fan_out", &c.FanInFanOut},
		{"target_modules", &c.TargetModules}, {"exclude_modules", &c.ExcludeModules},
		{"modules_to_save", &c.ModulesToSave}, {"target_parameters", &c.TargetParameters}, {"rank_pattern", &c.RankPattern}, {"alpha_pattern", &c.AlphaPattern},
		{"init_lora_weights", &c.InitLoraWeights},
	}
	for _, f := range fields {
		v, ok := raw[f.key]
		if !ok || string(v) == "null" {
			continue
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return nil, fmt.Errorf("adapter config: field %q: %v: %w", f.key, err, format.ErrFormat)
		}
	}
	if err := c.parseLayers(); err != nil {
		return nil, err
	}
	if _, ok := raw["peft_type"]; !ok {
		return nil, fmt.Errorf("adapter config: no peft_type: %w", format.ErrFormat)
	}
	if c.PeftType != "LORA" {
		return nil, fmt.Errorf("adapter config: peft_type %q: only LORA adapters are supported: %w", c.PeftType, format.ErrUnsupported)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// parseLayers reads layers_to_transform (an int or a list of ints) and
// layers_pattern (a string or a list of strings).
func (c *Config) parseLayers() error {
	if err := oneOrList(c.raw, "layers_to_transform", &c.LayersToTransform); err != nil {
		return err
	}
	return oneOrList(c.raw, "layers_pattern", &c.LayersPattern)
}

// oneOrList decodes raw[key], which PEFT allows as one value or a list, into
// dst; an absent or null key leaves dst nil.
func oneOrList[T any](raw map[string]json.RawMessage, key string, dst *[]T) error {
	v, ok := raw[key]
	if !ok || string(v) == "null" {
		return nil
	}
	var one T
	if json.Unmarshal(v, &one) == nil {
		*dst = []T{one}
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return fmt.Errorf("adapter config: field %q: %v: %w", key, err, format.ErrFormat)
	}
	return nil
}

// check validates values PEFT would reject.
func (c *Config) check() error {
	if c.R <= 0 {
		return fmt.Errorf("adapter config: r = %d, want > 0: %w", c.R, format.ErrFormat)
	}
	if math.IsNaN(c.LoraAlpha) || math.IsInf(c.LoraAlpha, 0) {
		return fmt.Errorf("adapter config: lora_alpha %v is not finite: %w", c.LoraAlpha, format.ErrFormat)
	}
	for _, e := range c.RankPattern.Entries() {
		if e.Value <= 0 || e.Value != math.Trunc(e.Value) || e.Value > math.MaxInt32 {
			return fmt.Errorf("adapter config: rank_pattern %q = %v, want a positive integer: %w", e.Key, e.Value, format.ErrFormat)
		}
	}
	for _, p := range []*Pattern{&c.RankPattern, &c.AlphaPattern} {
		if err := p.compile(); err != nil {
			return fmt.Errorf("adapter config: %w", err)
		}
	}
	return nil
}

// ModuleRank returns the rank PEFT gives the named module: the first
// matching rank_pattern key's value, else r.
func (c *Config) ModuleRank(name string) (int, error) {
	v, ok, err := c.RankPattern.Lookup(name)
	if err != nil || !ok {
		return c.R, err
	}
	return int(v), nil
}

// ModuleAlpha returns the alpha PEFT gives the named module: the first
// matching alpha_pattern key's value, else lora_alpha.
func (c *Config) ModuleAlpha(name string) (float64, error) {
	v, ok, err := c.AlphaPattern.Lookup(name)
	if err != nil || !ok {
		return c.LoraAlpha, err
	}
	return v, nil
}

// coreKeys are written even when they hold their default: every PEFT
// release since LoRA support writes and accepts them.
var coreKeys = map[string]bool{
	"peft_type": true, "task_type": true, "base_model_name_or_path": true, "revision": true,
	"inference_mode": true, "r": true, "lora_alpha": true, "lora_dropout": true,
	"target_modules": true, "fan_in_fan_out": true, "bias": true, "modules_to_save": true,
	"init_lora_weights": true, "layers_to_transform": true, "layers_pattern": true, "auto_mapping": true,
}

// Marshal writes the config as PEFT's save_pretrained does (json.dump with
// indent=2 and sort_keys=True, no trailing newline). Keys read from a file
// are all written back; keys newer than PEFT's first LoRA releases
// (use_rslora, rank_pattern, use_dora, ...) are added only when they differ
// from their default, so that older PEFT versions can load the file.
func (c *Config) Marshal() ([]byte, error) {
	out := map[string]any{}
	for k, v := range c.raw {
		out[k] = v
	}
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	known := []struct {
		key     string
		value   any
		nonDflt bool
	}{
		{"peft_type", c.PeftType, true},
		{"task_type", nullable(c.TaskType), c.TaskType != ""},
		{"base_model_name_or_path", nullable(c.BaseModel), c.BaseModel != ""},
		{"revision", nullable(c.Revision), c.Revision != ""},
		{"inference_mode", c.InferenceMode, c.InferenceMode},
		{"r", c.R, true},
		{"lora_alpha", json.RawMessage(number(c.LoraAlpha)), true},
		{"lora_dropout", json.RawMessage(number(c.LoraDropout)), c.LoraDropout != 0},
		{"use_rslora", c.UseRSLoRA, c.UseRSLoRA},
		{"use_dora", c.UseDoRA, c.UseDoRA},
		{"lora_bias", c.LoraBias, c.LoraBias},
		{"bias", c.Bias, c.Bias != "none"},
		{"fan_in_fan_out", c.FanInFanOut, c.FanInFanOut},
		{"target_modules", c.TargetModules, !c.TargetModules.IsZero()},
		{"exclude_modules", c.ExcludeModules, !c.ExcludeModules.IsZero()},
		{"modules_to_save", nilIfEmpty(c.ModulesToSave), c.ModulesToSave != nil},
		{"target_parameters", nilIfEmpty(c.TargetParameters), c.TargetParameters != nil},
		{"layers_to_transform", nilIfEmpty(c.LayersToTransform), c.LayersToTransform != nil},
		{"layers_pattern", c.layersPatternValue(), c.LayersPattern != nil},
		{"rank_pattern", c.RankPattern, c.RankPattern.Len() > 0},
		{"alpha_pattern", c.AlphaPattern, c.AlphaPattern.Len() > 0},
		{"init_lora_weights", c.InitLoraWeights, c.InitLoraWeights != true},
	}
	for _, f := range known {
		_, present := c.raw[f.key]
		if present || f.nonDflt || coreKeys[f.key] {
			out[f.key] = f.value
		}
	}
	if _, ok := out["auto_mapping"]; !ok {
		out["auto_mapping"] = nil
	}
	return encodeSorted(out)
}

// layersPatternValue writes a single pattern as the string it usually is.
func (c *Config) layersPatternValue() any {
	switch len(c.LayersPattern) {
	case 0:
		return nilIfEmpty(c.LayersPattern)
	case 1:
		if v, ok := c.raw["layers_pattern"]; ok && bytes.HasPrefix(bytes.TrimSpace(v), []byte("[")) {
			return c.LayersPattern
		}
		return c.LayersPattern[0]
	}
	return c.LayersPattern
}

func nilIfEmpty[T any](s []T) any {
	if s == nil {
		return nil
	}
	return s
}

// encodeSorted writes a JSON object with sorted keys, two-space indents and
// no HTML escaping, like Python's json.dump(indent=2, sort_keys=True).
func encodeSorted(m map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var compact bytes.Buffer
	compact.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			compact.WriteByte(',')
		}
		kb, err := marshalNoEscape(k)
		if err != nil {
			return nil, err
		}
		vb, err := marshalNoEscape(m[k])
		if err != nil {
			return nil, fmt.Errorf("adapter config: field %q: %w", k, err)
		}
		compact.Write(kb)
		compact.WriteByte(':')
		compact.Write(vb)
	}
	compact.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Clone returns a deep copy of c.
func (c *Config) Clone() *Config {
	d := *c
	d.TargetModules.List = slices.Clone(c.TargetModules.List)
	d.ExcludeModules.List = slices.Clone(c.ExcludeModules.List)
	d.ModulesToSave = slices.Clone(c.ModulesToSave)
	d.TargetParameters = slices.Clone(c.TargetParameters)
	d.LayersToTransform = slices.Clone(c.LayersToTransform)
	d.LayersPattern = slices.Clone(c.LayersPattern)
	d.RankPattern = Pattern{entries: slices.Clone(c.RankPattern.entries)}
	d.AlphaPattern = Pattern{entries: slices.Clone(c.AlphaPattern.entries)}
	d.raw = maps.Clone(c.raw)
	return &d
}
