package lora

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestPatternLookup follows PEFT's get_pattern_key: keys tried in order, the
// first with re.match(rf"(.*\.)?({key})$", name) wins, keys are regexes.
func TestPatternLookup(t *testing.T) {
	const cfg = `{"peft_type": "LORA", "r": 8, "lora_alpha": 16,
		"rank_pattern": {"q_proj": 4, "layers\\.1\\.self_attn\\.q_proj": 2, "mlp\\..*_proj": 12, "h.0.attn": 3},
		"alpha_pattern": {"v_proj": 32, "model.layers.0.self_attn.v_proj": 64}}`
	c, err := ParseConfig([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		rank        int
		alpha       float64
		description string
	}{
		{"model.layers.1.self_attn.q_proj", 4, 16, "first matching key wins, even if a later one is more specific"},
		{"model.layers.0.self_attn.k_proj", 8, 16, "no key matches: r and lora_alpha"},
		{"q_proj", 4, 16, "the whole name equals the key"},
		{"model.layers.0.self_attn.xq_proj", 8, 16, "a suffix must start after a dot"},
		{"model.layers.0.mlp.gate_proj", 12, 16, "keys are regular expressions"},
		{"transformer.hx0.attn", 3, 16, "'.' in a key is any character, as in PEFT"},
		{"model.layers.0.self_attn.v_proj", 8, 32, "alpha_pattern: the bare suffix comes first"},
		{"model.layers.0.self_attn.v_proj_x", 8, 16, "the key must reach the end of the name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := c.ModuleRank(tt.name)
			if err != nil || r != tt.rank {
				t.Errorf("ModuleRank(%q) = %d, %v, want %d (%s)", tt.name, r, err, tt.rank, tt.description)
			}
			al, err := c.ModuleAlpha(tt.name)
			if err != nil || al != tt.alpha {
				t.Errorf("ModuleAlpha(%q) = %v, %v, want %v (%s)", tt.name, al, err, tt.alpha, tt.description)
			}
		})
	}
}

// TestScaleRules checks the per-module scale against hand-computed values.
func TestScaleRules(t *testing.T) {
	tests := []struct {
		name   string
		config string
		module string
		rank   int
		want   float64
	}{
		{"alpha/r", `{"peft_type":"LORA","r":8,"lora_alpha":32}`, "a.q", 8, 4},
		{"rsLoRA alpha/sqrt(r)", `{"peft_type":"LORA","r":16,"lora_alpha":32,"use_rslora":true}`, "a.q", 16, 8},
		{"rank_pattern changes r", `{"peft_type":"LORA","r":8,"lora_alpha":32,"rank_pattern":{"q":4}}`, "a.q", 4, 8},
		{"alpha_pattern changes alpha", `{"peft_type":"LORA","r":8,"lora_alpha":32,"alpha_pattern":{"a.q":8}}`, "a.q", 8, 1},
		{"both patterns with rsLoRA", `{"peft_type":"LORA","r":8,"lora_alpha":32,"use_rslora":true,"rank_pattern":{"q":4},"alpha_pattern":{"q":6}}`, "x.a.q", 4, 3},
		{"float alpha", `{"peft_type":"LORA","r":4,"lora_alpha":2.5}`, "q", 4, 0.625},
		{"alpha 0 gives 0", `{"peft_type":"LORA","r":4,"lora_alpha":0}`, "q", 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tt.config))
			if err != nil {
				t.Fatal(err)
			}
			dir := writePEFTDir(t, tt.config,
				f32Tensor("base_model.model."+tt.module+".lora_A.weight", []int64{int64(tt.rank), 2}, seq(2*tt.rank, 1)),
				f32Tensor("base_model.model."+tt.module+".lora_B.weight", []int64{3, int64(tt.rank)}, seq(3*tt.rank, 1)))
			a, err := ReadPEFT(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Modules[0].Scale(); got != tt.want {
				t.Errorf("Scale() = %v, want %v (config %+v)", got, tt.want, cfg)
			}
		})
	}
}

func TestTargets(t *testing.T) {
	tests := []struct {
		config string
		name   string
		want   bool
	}{
		{`{"target_modules": ["c_attn", "c_proj"]}`, "transformer.h.0.attn.c_attn", true},
		{`{"target_modules": ["c_attn"]}`, "transformer.h.0.attn.xc_attn", false},
		{`{"target_modules": ["c_attn"]}`, "c_attn", true},
		{`{"target_modules": ".*\\.(q|v)_proj"}`, "model.layers.0.self_attn.q_proj", true},
		{`{"target_modules": ".*\\.(q|v)_proj"}`, "model.layers.0.self_attn.q_proj.x", false},
		{`{"target_modules": "all-linear"}`, "anything.at.all", true},
		{`{"target_modules": ["q_proj"], "layers_to_transform": [1]}`, "model.layers.1.self_attn.q_proj", true},
		{`{"target_modules": ["q_proj"], "layers_to_transform": 1}`, "model.layers.0.self_attn.q_proj", false},
		{`{"target_modules": ["q_proj"], "layers_to_transform": [0], "layers_pattern": "layers"}`, "model.layers.0.self_attn.q_proj", true},
		{`{"target_modules": ["q_proj"], "layers_to_transform": [0], "layers_pattern": ["h"]}`, "model.layers.0.self_attn.q_proj", false},
		{`{"target_modules": ["q_proj"], "exclude_modules": ["layers.0.self_attn.q_proj"]}`, "model.layers.0.self_attn.q_proj", false},
	}
	for _, tt := range tests {
		t.Run(tt.config+" "+tt.name, func(t *testing.T) {
			var m map[string]any
			json.Unmarshal([]byte(tt.config), &m)
			m["peft_type"] = "LORA"
			data, _ := json.Marshal(m)
			c, err := ParseConfig(data)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.Targets(tt.name); got != tt.want || err != nil {
				t.Errorf("Targets(%q) = %v, %v, want %v", tt.name, got, err, tt.want)
			}
		})
	}
}

func TestConfigRewriteKeepsUnknownFields(t *testing.T) {
	in := `{"peft_type": "LORA", "r": 4, "future_field": {"nested": [1, 2.5, "x<y"]}, "lora_alpha": 8.5,
		"rank_pattern": {"z": 2, "a": 3}, "layers_to_transform": 3, "init_lora_weights": "gaussian"}`
	c, err := ParseConfig([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got["future_field"], map[string]any{"nested": []any{1.0, 2.5, "x<y"}}) {
		t.Errorf("future_field = %v, want kept", got["future_field"])
	}
	if got["lora_alpha"] != 8.5 || got["init_lora_weights"] != "gaussian" || !reflect.DeepEqual(got["layers_to_transform"], []any{3.0}) {
		t.Errorf("rewritten = %s", out)
	}
	if !bytes.Contains(out, []byte(`"rank_pattern": {
    "z": 2,
    "a": 3
  }`)) {
		t.Errorf("rank_pattern order not kept:\n%s", out)
	}
	// Fields newer than PEFT's first LoRA releases are not invented.
	for _, k := range []string{"use_rslora", "use_dora", "alpha_pattern", "lora_bias", "exclude_modules"} {
		if _, ok := got[k]; ok {
			t.Errorf("rewrite added %q", k)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, config string
		want         error
	}{
		{"not an object", `[1]`, format.ErrFormat},
		{"no peft_type", `{"r": 8}`, format.ErrFormat},
		{"AdaLoRA", `{"peft_type": "ADALORA"}`, format.ErrUnsupported},
		{"r a string", `{"peft_type": "LORA", "r": "8"}`, format.ErrFormat},
		{"negative r", `{"peft_type": "LORA", "r": -1}`, format.ErrFormat},
		{"target_modules a number", `{"peft_type": "LORA", "target_modules": 3}`, format.ErrFormat},
		{"rank_pattern of strings", `{"peft_type": "LORA", "rank_pattern": {"q": "x"}}`, format.ErrFormat},
		{"rank_pattern fraction", `{"peft_type": "LORA", "rank_pattern": {"q": 1.5}}`, format.ErrFormat},
		{"pattern RE2 cannot run", `{"peft_type": "LORA", "alpha_pattern": {"(?=q)": 1}}`, format.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseConfig([]byte(tt.config)); !errors.Is(err, tt.want) {
				t.Errorf("ParseConfig(%s) error = %v, want %v", tt.config, err, tt.want)
			}
		})
	}
}

// FuzzParseConfig: no panic on any input; whatever parses rewrites to a
// config that parses to the same values.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj"], "rank_pattern": {"q": 4}}`))
	f.Add([]byte(`{"peft_type": "LORA", "target_modules": ".*q", "layers_to_transform": 2, "layers_pattern": ["h"], "alpha_pattern": {"a.b": 1.5}}`))
	f.Add([]byte(`{"peft_type": "LORA", "r": 1e400}`))
	f.Add([]byte(`{"peft_type": "LORA", "modules_to_save": ["lm_head"], "init_lora_weights": "pissa", "x": null}`))
	if data, err := os.ReadFile(filepath.Join("..", "..", "shared", tigrinya, peftConfigFile)); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		out, err := c.Marshal()
		if err != nil {
			if math.IsInf(c.LoraAlpha, 0) || math.IsNaN(c.LoraAlpha) {
				return
			}
			t.Fatalf("Marshal() error = %v for %s", err, data)
		}
		d, err := ParseConfig(out)
		if err != nil {
			t.Fatalf("rewritten config does not parse: %v\n%s", err, out)
		}
		c.raw, d.raw = nil, nil
		c.RankPattern.res, d.RankPattern.res = nil, nil
		c.AlphaPattern.res, d.AlphaPattern.res = nil, nil
		if !reflect.DeepEqual(c, d) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v\n%s", c, d, out)
		}
	})
}
