package arch

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// Config is a parsed config.json. For a multimodal checkpoint it is the
// text tower's view (see TextConfig).
type Config map[string]any

// TextConfig returns the configuration of a checkpoint's text model: cfg
// itself, or for a multimodal checkpoint (Gemma 3, Mistral 3) the top-level
// fields overlaid with its "text_config", whose model_type then names the
// family. multimodal reports the second case.
//
// Configs written by transformers 5 state RoPE as "rope_parameters" (one
// object with rope_theta and the scaling fields, or one per attention
// kind: full_attention, sliding_attention); they are read as the
// rope_theta, rope_scaling and rope_local_base_freq fields of earlier
// configs where those are absent.
func TextConfig(cfg map[string]any) (text Config, multimodal bool) {
	out := Config{}
	tc, multimodal := cfg["text_config"].(map[string]any)
	for k, v := range cfg {
		if !multimodal || (k != "text_config" && k != "vision_config") {
			out[k] = v
		}
	}
	for k, v := range tc {
		out[k] = v
	}
	out.ropeParameters()
	return out, multimodal
}

// ropeParameters fills rope_theta, rope_scaling and rope_local_base_freq
// from transformers 5's rope_parameters where they are absent.
func (c Config) ropeParameters() {
	rp, ok := c["rope_parameters"].(map[string]any)
	if !ok {
		return
	}
	full, sliding := rp, map[string]any(nil)
	if f, ok := rp["full_attention"].(map[string]any); ok {
		full = f
		sliding, _ = rp["sliding_attention"].(map[string]any)
	}
	setIfAbsent := func(k string, v any) {
		if _, has := c[k]; !has && v != nil {
			c[k] = v
		}
	}
	setIfAbsent("rope_theta", full["rope_theta"])
	if sliding != nil {
		setIfAbsent("rope_local_base_freq", sliding["rope_theta"])
	}
	if t, _ := full["rope_type"].(string); t != "" && t != "default" {
		setIfAbsent("rope_scaling", full)
	}
}

// Number returns a numeric field; a dotted name reads a nested object
// ("rope_scaling.factor"). A null or absent field is not ok.
func (c Config) Number(name string) (float64, bool) {
	v, ok := c.get(name)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// String returns a string field (dotted names read nested objects).
func (c Config) String(name string) (string, bool) {
	v, ok := c.get(name)
	s, isStr := v.(string)
	return s, ok && isStr
}

// Has reports whether a field is present and not null.
func (c Config) Has(name string) bool {
	v, ok := c.get(name)
	return ok && v != nil
}

func (c Config) get(name string) (any, bool) {
	var cur any = map[string]any(c)
	for _, part := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

// Param maps one config.json field to one GGUF hyperparameter.
type Param struct {
	// JSON is the config.json field ("" for a value only derived, never
	// read back); Key the GGUF key without the architecture prefix.
	JSON, Key string
	// Type is the GGUF value type llama.cpp writes.
	Type ValueType
	// Default computes the value when config.json lacks the field (or has
	// null); nil makes the field required unless Optional.
	Default func(c Config) (float64, bool)
	// Optional params are written only when config.json has the field,
	// as llama.cpp writes key_length only when head_dim is stated.
	Optional bool
	// When, if set, must hold for the key to be written at all.
	When func(c Config) bool
}

// ValueType is a GGUF metadata value type.
type ValueType int

// The value types hyperparameters use.
const (
	U32 ValueType = iota
	F32
)

// value returns the param's value from cfg; ok false when it is not written.
func (p Param) value(c Config, cfgName, arch string) (any, bool, error) {
	if p.When != nil && !p.When(c) {
		return nil, false, nil
	}
	v, ok := c.Number(p.JSON)
	if !ok && p.JSON != "" && c.Has(p.JSON) {
		return nil, false, fmt.Errorf("%s: %q is not a number: %w", cfgName, p.JSON, format.ErrFormat)
	}
	if !ok && p.Default != nil {
		v, ok = p.Default(c)
	}
	if !ok {
		if p.Optional {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("%s: missing %q (needed for %s.%s): %w", cfgName, p.JSON, arch, p.Key, format.ErrFormat)
	}
	if p.Type == F32 {
		return float32(v), true, nil
	}
	if v < 0 || v > math.MaxUint32 || v != math.Trunc(v) {
		return nil, false, fmt.Errorf("%s: %q = %v is not a count: %w", cfgName, p.JSON, v, format.ErrFormat)
	}
	return uint32(v), true, nil
}

// GGUFMetadata returns config.json's hyperparameters as llama.cpp's
// <arch>.* keys, typed as llama.cpp writes them, RoPE scaling keys
// included. cfgName names the file in errors.
func (f *Family) GGUFMetadata(c Config, cfgName string) (format.Metadata, error) {
	if f.Check != nil {
		if err := f.Check(c); err != nil {
			return nil, fmt.Errorf("%s: %w", cfgName, err)
		}
	}
	var md format.Metadata
	for _, p := range f.Params {
		v, ok, err := p.value(c, cfgName, f.Name)
		if err != nil {
			return nil, err
		}
		if ok {
			md.Set(f.Name+"."+p.Key, v)
		}
	}
	rope, err := f.ropeMetadata(c, cfgName)
	if err != nil {
		return nil, err
	}
	for _, kv := range rope {
		md.Set(kv.Key, kv.Value)
	}
	return md, nil
}

// HFConfig builds config.json from a GGUF model's metadata. factors holds
// the values of its generated tensors (rope_freqs, LongRoPE factors) by
// name, from which rope_scaling is rebuilt; vocab is the embedding's row
// count and tied reports a model without an output head.
func (f *Family) HFConfig(md format.Metadata, factors map[string][]float32, vocab int64, tied bool) (map[string]any, error) {
	cfg := map[string]any{"architectures": []string{f.HFClass}, "model_type": f.HFModelType}
	if n, ok := md.Int(f.Name + ".expert_count"); ok && n > 0 && f.MoEClass != "" {
		cfg["architectures"], cfg["model_type"] = []string{f.MoEClass}, f.MoEModelType
	}
	for k, v := range f.HFExtra {
		cfg[k] = v
	}
	for _, p := range f.Params {
		if p.JSON == "" || strings.Contains(p.JSON, ".") {
			continue
		}
		if _, done := cfg[p.JSON]; done {
			continue
		}
		v, ok := md.Get(f.Name + "." + p.Key)
		switch x := v.(type) {
		case float32:
			cfg[p.JSON] = json.Number(strconv.FormatFloat(float64(x), 'g', -1, 32))
		default:
			if !ok {
				if p.Default == nil && !p.Optional && p.When == nil {
					return nil, fmt.Errorf("metadata lacks %s.%s: %w", f.Name, p.Key, format.ErrFormat)
				}
				continue
			}
			n, _ := md.Int(f.Name + "." + p.Key)
			cfg[p.JSON] = n
		}
	}
	if _, ok := cfg["vocab_size"]; !ok && vocab > 0 {
		cfg["vocab_size"] = vocab
	}
	cfg["tie_word_embeddings"] = tied || f.TiedAlways
	for key, field := range map[string]string{"tokenizer.ggml.bos_token_id": "bos_token_id", "tokenizer.ggml.eos_token_id": "eos_token_id"} {
		if id, ok := md.Int(key); ok {
			cfg[field] = id
		}
	}
	if err := f.ropeConfig(md, factors, cfg); err != nil {
		return nil, err
	}
	if f.HFDerived != nil {
		f.HFDerived(cfg, md)
	}
	return cfg, nil
}

// Hyper are the hyperparameters import checks tensors against.
type Hyper struct {
	Layers, Embd, Heads, KVHeads, HeadDim, Experts int
}

// Hyperparameters reads the checked hyperparameters from GGUF metadata
// (zero where absent). head_dim is key_length, else embedding / heads.
func (f *Family) Hyperparameters(md format.Metadata) Hyper {
	get := func(k string) int { v, _ := md.Int(f.Name + "." + k); return int(v) }
	h := Hyper{Layers: get("block_count"), Embd: get("embedding_length"), Heads: get("attention.head_count"),
		KVHeads: get("attention.head_count_kv"), HeadDim: get("attention.key_length"), Experts: get("expert_count")}
	if h.KVHeads == 0 {
		h.KVHeads = h.Heads
	}
	if h.HeadDim == 0 && h.Heads > 0 {
		h.HeadDim = h.Embd / h.Heads
	}
	return h
}

// WantRows returns the row count r requires under h, 0 when unchecked.
func (h Hyper) WantRows(r Rows) int {
	switch r {
	case QRows:
		return h.Heads * h.HeadDim
	case KVRows:
		return h.KVHeads * h.HeadDim
	case QKVRows:
		return (h.Heads + 2*h.KVHeads) * h.HeadDim
	case HeadDimRows:
		return h.HeadDim
	case ExpertRows:
		return h.Experts
	}
	return 0
}

// Common Default functions.

// headDim is hidden_size / num_attention_heads, the head size when
// config.json does not state head_dim.
func headDim(c Config) (float64, bool) {
	h, ok1 := c.Number("hidden_size")
	n, ok2 := c.Number("num_attention_heads")
	if !ok1 || !ok2 || n == 0 {
		return 0, false
	}
	return math.Floor(h / n), true
}

// sameAs defaults a field to another field's value.
func sameAs(field string) func(Config) (float64, bool) {
	return func(c Config) (float64, bool) { return c.Number(field) }
}

// constant defaults a field to v.
func constant(v float64) func(Config) (float64, bool) {
	return func(Config) (float64, bool) { return v, true }
}
