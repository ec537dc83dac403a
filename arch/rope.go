package arch

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/lorakit/lorakit/format"
)

// RoPE scaling: config.json's rope_scaling becomes GGUF keys (linear,
// yarn) or tensors llama.cpp's converter generates (llama3: rope_freqs;
// Phi-3 LongRoPE: rope_factors_long/short), and back.

// GeneratedTensor is a tensor computed from config.json on import.
type GeneratedTensor struct {
	Name   string
	Values []float32
}

// ropeScaling returns config.json's rope_scaling object and its type
// ("" when absent, null or "default").
func ropeScaling(c Config) (Config, string) {
	rs, ok := c["rope_scaling"].(map[string]any)
	if !ok {
		return nil, ""
	}
	typ, _ := rs["rope_type"].(string)
	if typ == "" {
		typ, _ = rs["type"].(string)
	}
	if typ == "default" {
		typ = ""
	}
	if typ == "su" {
		typ = "longrope"
	}
	return Config(rs), typ
}

// ropeMetadata returns the rope.scaling.* keys of config.json's
// rope_scaling, refusing a type llama.cpp does not convert for the family.
func (f *Family) ropeMetadata(c Config, cfgName string) (format.Metadata, error) {
	rs, typ := ropeScaling(c)
	if typ == "" {
		return nil, nil
	}
	if !slices.Contains(f.Rope, typ) {
		return nil, fmt.Errorf("%s: rope_scaling type %q: %w for %s (llama.cpp converts %v)", cfgName, typ, format.ErrUnsupported, f.Name, f.Rope)
	}
	var md format.Metadata
	key := func(k string) string { return f.Name + ".rope.scaling." + k }
	need := func(field string) (float64, error) {
		v, ok := rs.Number(field)
		if !ok {
			return 0, fmt.Errorf("%s: rope_scaling of type %q lacks %q: %w", cfgName, typ, field, format.ErrFormat)
		}
		return v, nil
	}
	switch typ {
	case "linear", "yarn":
		factor, err := need("factor")
		if err != nil {
			return nil, err
		}
		md.Set(key("type"), typ)
		md.Set(key("factor"), float32(factor))
		if typ == "yarn" {
			orig, err := need("original_max_position_embeddings")
			if err != nil {
				return nil, err
			}
			md.Set(key("original_context_length"), uint32(orig))
			for _, o := range []struct{ field, key string }{
				{"extrapolation_factor", "yarn_ext_factor"}, {"attention_factor", "yarn_attn_factor"},
				{"attn_factor", "yarn_attn_factor"}, {"beta_fast", "yarn_beta_fast"}, {"beta_slow", "yarn_beta_slow"},
			} {
				if v, ok := rs.Number(o.field); ok {
					md.Set(key(o.key), float32(v))
				}
			}
		}
	case "longrope":
		md.Set(key("type"), typ)
		attn, err := longRopeAttnFactor(c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfgName, err)
		}
		md.Set(key("attn_factor"), float32(attn))
	}
	return md, nil
}

// Generate returns the tensors llama.cpp's converter computes from
// config.json for this family (nil when there are none).
func (f *Family) Generate(c Config, cfgName string) ([]GeneratedTensor, error) {
	rs, typ := ropeScaling(c)
	switch {
	case typ == "" || !slices.Contains(f.Rope, typ):
		return nil, nil
	case typ == "llama3":
		dim, ok := c.Number("head_dim")
		if !ok {
			if dim, ok = headDim(c); !ok {
				return nil, fmt.Errorf("%s: llama3 rope scaling needs hidden_size and num_attention_heads: %w", cfgName, format.ErrFormat)
			}
		}
		if dim < 2 || dim > maxHeadDim || dim != math.Trunc(dim) {
			return nil, fmt.Errorf("%s: head size %v for llama3 rope scaling: %w", cfgName, dim, format.ErrFormat)
		}
		theta, ok := c.Number("rope_theta")
		if !ok {
			theta = 10000
		}
		p := llama3Params{factor: 8, low: 1, high: 4, old: 8192}
		for _, o := range []struct {
			field string
			v     *float64
		}{{"factor", &p.factor}, {"low_freq_factor", &p.low}, {"high_freq_factor", &p.high}} {
			if v, ok := rs.Number(o.field); ok {
				*o.v = v
			}
		}
		// transformers reads the original context from rope_scaling;
		// llama.cpp's converter only from the top level (default 8192).
		// lorakit follows the model's definition, so that the GGUF computes
		// what the checkpoint does; the two agree on every published
		// Llama 3.x config.
		if v, ok := rs.Number("original_max_position_embeddings"); ok {
			p.old = v
		} else if v, ok := c.Number("original_max_position_embeddings"); ok {
			p.old = v
		}
		if p.high == p.low {
			return nil, fmt.Errorf("%s: rope_scaling low_freq_factor equals high_freq_factor (%v): %w", cfgName, p.low, format.ErrFormat)
		}
		return []GeneratedTensor{{Name: "rope_freqs.weight", Values: llama3Factors(int(dim), theta, p)}}, nil
	case typ == "longrope":
		long, err := floatList(rs, "long_factor", cfgName)
		if err != nil {
			return nil, err
		}
		short, err := floatList(rs, "short_factor", cfgName)
		if err != nil {
			return nil, err
		}
		dims, err := phi3RopeDims(c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfgName, err)
		}
		if len(long) != dims/2 || len(short) != dims/2 {
			return nil, fmt.Errorf("%s: rope_scaling long_factor has %d and short_factor %d values, want rope dims / 2 = %d: %w",
				cfgName, len(long), len(short), dims/2, format.ErrFormat)
		}
		return []GeneratedTensor{{Name: "rope_factors_long.weight", Values: long}, {Name: "rope_factors_short.weight", Values: short}}, nil
	}
	return nil, nil
}

// maxHeadDim bounds the head size a config may state before rope factors
// are allocated from it (real models use 64-256).
const maxHeadDim = 1 << 16

// llama3Params are Llama 3.x's rope_scaling values.
type llama3Params struct{ factor, low, high, old float64 }

// llama3Factors computes llama.cpp's rope_freqs for Llama 3 scaling: for
// each of dim/2 frequencies freq_i = 1/theta^(2i/dim), wavelen = 2π/freq;
// factor 1 below old/high, `factor` above old/low, and between them
// 1/((1-s)/factor + s) with s = (old/wavelen - low)/(high - low). The steps
// are float32 like the torch code of llama.cpp's converter (a Python
// scalar divided by a tensor is a reciprocal times the scalar); torch's
// float32 pow is not correctly rounded, so a value may differ from the
// converter's in the last bit or two.
func llama3Factors(dim int, theta float64, p llama3Params) []float32 {
	out := make([]float32, 0, dim/2)
	lowWave, highWave := p.old/p.low, p.old/p.high
	for i := 0; i < dim; i += 2 {
		e := float32(i) / float32(dim)
		freq := 1 / float32(math.Pow(float64(float32(theta)), float64(e)))
		wavelen := (1 / freq) * float32(2*math.Pi)
		switch {
		case float64(wavelen) < highWave:
			out = append(out, 1)
		case float64(wavelen) > lowWave:
			out = append(out, float32(p.factor))
		default:
			s := ((1/wavelen)*float32(p.old) - float32(p.low)) * (1 / float32(p.high-p.low))
			d := (1-s)*(1/float32(p.factor)) + s
			out = append(out, 1/d)
		}
	}
	return out
}

// ropeFreqsTolerance is the relative agreement asked of rope_freqs values
// recomputed from inferred parameters: torch's float32 pow differs from a
// correctly rounded one by an ulp or two (about 2.4e-7 relative).
const ropeFreqsTolerance = 1e-6

// inferLlama3 finds the rope_scaling that regenerates a rope_freqs tensor:
// factor is its last value; low 1, high 4 (every published Llama 3.x) and
// the original context among the sizes configs use.
func inferLlama3(v []float32, dim int, theta float64, ctx int64) (llama3Params, bool) {
	if len(v) == 0 || len(v) != dim/2 {
		return llama3Params{}, false
	}
	factor := float64(v[len(v)-1])
	olds := []float64{8192, 2048, 4096, 16384, 32768}
	if ctx > 0 && factor > 0 {
		olds = append(olds, float64(ctx)/factor)
	}
	for _, old := range olds {
		p := llama3Params{factor: factor, low: 1, high: 4, old: old}
		got := llama3Factors(dim, theta, p)
		ok := true
		for i := range got {
			if math.Abs(float64(got[i]-v[i])) > ropeFreqsTolerance*math.Abs(float64(v[i])) {
				ok = false
				break
			}
		}
		if ok {
			return p, true
		}
	}
	return llama3Params{}, false
}

// ropeConfig writes config.json's rope_scaling from GGUF metadata and the
// generated tensors' values.
func (f *Family) ropeConfig(md format.Metadata, factors map[string][]float32, cfg map[string]any) error {
	key := func(k string) string { return f.Name + ".rope.scaling." + k }
	num := func(x float64) json.Number { return json.Number(strconv.FormatFloat(float64(float32(x)), 'g', -1, 32)) }
	typ, _ := md.String(key("type"))
	switch {
	case factors["rope_freqs.weight"] != nil:
		v := factors["rope_freqs.weight"]
		dim, ok := md.Int(f.Name + ".rope.dimension_count")
		if !ok {
			dim = int64(2 * len(v))
		}
		theta, ok := md.Float(f.Name + ".rope.freq_base")
		if !ok {
			theta = 10000
		}
		ctx, _ := md.Int(f.Name + ".context_length")
		p, ok := inferLlama3(v, int(dim), theta, ctx)
		if !ok {
			return fmt.Errorf("tensor \"rope_freqs.weight\" is not Llama 3 rope scaling (low 1, high 4) that config.json can state: %w", format.ErrUnsupported)
		}
		cfg["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": num(p.factor), "low_freq_factor": num(p.low),
			"high_freq_factor": num(p.high), "original_max_position_embeddings": int64(p.old)}
	case typ == "linear" || typ == "yarn":
		rs := map[string]any{"rope_type": typ}
		if v, ok := md.Float(key("factor")); ok {
			rs["factor"] = num(v)
		}
		if v, ok := md.Int(key("original_context_length")); ok && typ == "yarn" {
			rs["original_max_position_embeddings"] = v
		}
		for k, field := range map[string]string{"yarn_ext_factor": "extrapolation_factor", "yarn_attn_factor": "attention_factor",
			"yarn_beta_fast": "beta_fast", "yarn_beta_slow": "beta_slow"} {
			if v, ok := md.Float(key(k)); ok {
				rs[field] = num(v)
			}
		}
		cfg["rope_scaling"] = rs
	case factors["rope_factors_long.weight"] != nil:
		cfg["rope_scaling"] = map[string]any{"type": "longrope",
			"long_factor": jsonFloats(factors["rope_factors_long.weight"]), "short_factor": jsonFloats(factors["rope_factors_short.weight"])}
	case typ != "":
		return fmt.Errorf("metadata %s = %q: %w", key("type"), typ, format.ErrUnsupported)
	}
	return nil
}

// jsonFloats writes float32 values with their shortest decimal form.
func jsonFloats(v []float32) []json.Number {
	out := make([]json.Number, len(v))
	for i, x := range v {
		out[i] = json.Number(strconv.FormatFloat(float64(x), 'g', -1, 32))
	}
	return out
}

// floatList reads rope_scaling's list field as float32.
func floatList(rs Config, field, cfgName string) ([]float32, error) {
	raw, ok := rs[field].([]any)
	if !ok {
		return nil, fmt.Errorf("%s: rope_scaling lacks the list %q: %w", cfgName, field, format.ErrFormat)
	}
	out := make([]float32, len(raw))
	for i, x := range raw {
		v, ok := Config{"v": x}.Number("v")
		if !ok {
			return nil, fmt.Errorf("%s: rope_scaling %s[%d] is not a number: %w", cfgName, field, i, format.ErrFormat)
		}
		out[i] = float32(v)
	}
	return out, nil
}

// phi3RopeDims is Phi-3's rotary width: int(partial_rotary_factor * hidden)
// / heads.
func phi3RopeDims(c Config) (int, error) {
	h, ok1 := c.Number("hidden_size")
	n, ok2 := c.Number("num_attention_heads")
	if !ok1 || !ok2 || n == 0 {
		return 0, fmt.Errorf("missing hidden_size or num_attention_heads: %w", format.ErrFormat)
	}
	p, ok := c.Number("partial_rotary_factor")
	if !ok {
		p = 1
	}
	return int(math.Floor(p*h)) / int(n), nil
}

// longRopeAttnFactor is llama.cpp's attention factor for LongRoPE:
// sqrt(1 + ln(scale)/ln(original context)) with scale = context /
// original context, 1 when not extended.
func longRopeAttnFactor(c Config) (float64, error) {
	ctx, ok1 := c.Number("max_position_embeddings")
	orig, ok2 := c.Number("original_max_position_embeddings")
	if !ok1 || !ok2 || orig <= 1 {
		return 0, fmt.Errorf("LongRoPE needs max_position_embeddings and original_max_position_embeddings: %w", format.ErrFormat)
	}
	scale := ctx / orig
	if scale <= 1 {
		return 1, nil
	}
	return math.Sqrt(1 + math.Log(scale)/math.Log(orig)), nil
}
