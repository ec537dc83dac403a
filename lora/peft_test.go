package lora

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/format"
)

const tigrinya = "data/adapters/gpt2-tigrinya-peft-lora"

func TestReadPEFTTigrinya(t *testing.T) {
	dir := sharedDir(t, tigrinya)
	a, err := ReadPEFT(dir)
	if err != nil {
		t.Fatal(err)
	}
	// PROVENANCE.md: r 8, alpha 32, c_attn + attn.c_proj + mlp.c_proj in 12
	// layers, fan_in_fan_out, F32.
	if got, want := len(a.Modules), 36; got != want {
		t.Fatalf("len(Modules) = %d, want %d", got, want)
	}
	if a.Kind != KindPEFT || a.DType != format.F32 || len(a.Saved) != 0 {
		t.Errorf("Kind, DType, len(Saved) = %v, %v, %d, want peft, F32, 0", a.Kind, a.DType, len(a.Saved))
	}
	c := a.Config
	if c.R != 8 || c.LoraAlpha != 32 || !c.FanInFanOut || c.UseRSLoRA || c.UseDoRA || c.TaskType != "CAUSAL_LM" || c.BaseModel != "gpt2" {
		t.Errorf("config = r %d alpha %v fifo %v rslora %v dora %v task %q base %q", c.R, c.LoraAlpha, c.FanInFanOut, c.UseRSLoRA, c.UseDoRA, c.TaskType, c.BaseModel)
	}
	if !slices.Equal(c.TargetModules.List, []string{"c_attn", "c_proj"}) {
		t.Errorf("TargetModules = %v, want [c_attn c_proj]", c.TargetModules.List)
	}
	shapes := map[string][2]int{"attn.c_attn": {768, 2304}, "attn.c_proj": {768, 768}, "mlp.c_proj": {3072, 768}}
	for l := range 12 {
		for suffix, io := range shapes {
			name := fmt.Sprintf("transformer.h.%d.%s", l, suffix)
			m := a.Module(name)
			if m == nil {
				t.Fatalf("Module(%q) = nil", name)
			}
			if m.Rank != 8 || m.In != io[0] || m.Out != io[1] || m.Scale() != 4 || !m.FanInFanOut {
				t.Errorf("%s: rank %d in %d out %d scale %v fifo %v, want 8 %d %d 4 true", name, m.Rank, m.In, m.Out, m.Scale(), m.FanInFanOut, io[0], io[1])
			}
			if ok, _ := c.Targets(name); !ok {
				t.Errorf("Targets(%q) = false, want true", name)
			}
		}
	}
	// lora_B is trained (PROVENANCE: std ~0.005-0.008), so not all zero.
	if m := a.Modules[0]; slices.Max(m.B) == 0 && slices.Min(m.B) == 0 {
		t.Errorf("%s: B is all zero", m.Name)
	}
}

// TestWritePEFTMatchesPEFT rewrites the real adapter: the safetensors file
// and the config come out byte-identical to what PEFT saved, which proves
// the key names, the tensor order, the metadata and the config encoding.
func TestWritePEFTMatchesPEFT(t *testing.T) {
	dir := sharedDir(t, tigrinya)
	a, err := ReadPEFT(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := WritePEFT(a, out, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{peftConfigFile, peftWeightsFile} {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: rewritten file differs from PEFT's (%d vs %d bytes)", f, len(got), len(want))
		}
	}
	if names := dirNames(t, out); !slices.Equal(names, []string{peftConfigFile, peftWeightsFile}) {
		t.Errorf("output holds %v", names)
	}
}

// TestWritePEFTRoundTrip builds an adapter with every PEFT feature lorakit
// writes and reads it back exactly.
func TestWritePEFTRoundTrip(t *testing.T) {
	a := &Adapter{
		Modules: []*Module{
			{Name: "model.layers.0.self_attn.q_proj", Rank: 2, In: 3, Out: 4, Alpha: 16, A: seq(6, 1), B: seq(8, -1), Magnitude: seq(4, 2), Bias: seq(4, 0.5)},
			{Name: "model.layers.0.self_attn.v_proj", Rank: 4, In: 3, Out: 2, Alpha: 8, A: seq(12, 3), B: seq(8, -2), Magnitude: seq(2, 1), Bias: seq(2, 1)},
		},
		Saved: []Tensor{{Name: "lm_head.weight", DType: format.F32, Shape: []int64{2, 2}, Data: f32Bytes([]float32{1, 2, 3, 4})}},
	}
	for _, dt := range []format.DType{format.F32, format.F16, format.BF16} {
		t.Run(dt.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "adapter")
			if err := WritePEFT(a, out, WriteOptions{DType: dt}); err != nil {
				t.Fatal(err)
			}
			b, err := ReadPEFT(out)
			if err != nil {
				t.Fatal(err)
			}
			if b.DType != dt {
				t.Errorf("DType = %v, want %v", b.DType, dt)
			}
			if len(b.Modules) != len(a.Modules) {
				t.Fatalf("read %d modules, want %d", len(b.Modules), len(a.Modules))
			}
			for i, m := range a.Modules {
				g := b.Modules[i]
				if g.Name != m.Name || g.Rank != m.Rank || g.In != m.In || g.Out != m.Out || g.Scale() != m.Scale() ||
					!slices.Equal(g.A, m.A) || !slices.Equal(g.B, m.B) || !slices.Equal(g.Magnitude, m.Magnitude) || !slices.Equal(g.Bias, m.Bias) {
					t.Errorf("module %d = %+v, want %+v", i, g, m)
				}
			}
			if len(b.Saved) != 1 || b.Saved[0].Name != "lm_head.weight" || !bytes.Equal(b.Saved[0].Data, a.Saved[0].Data) {
				t.Errorf("Saved = %+v", b.Saved)
			}
			c := b.Config
			if !c.UseDoRA || !c.LoraBias || !slices.Equal(c.ModulesToSave, []string{"lm_head"}) {
				t.Errorf("config: use_dora %v lora_bias %v modules_to_save %v, want true true [lm_head]", c.UseDoRA, c.LoraBias, c.ModulesToSave)
			}
		})
	}
	// The PEFT key names, exactly.
	out := filepath.Join(t.TempDir(), "adapter")
	if err := WritePEFT(a, out, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	src, err := format.Open(filepath.Join(out, peftWeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var keys []string
	for _, ti := range src.Tensors() {
		keys = append(keys, ti.Name)
	}
	slices.Sort(keys)
	want := []string{
		"base_model.model.lm_head.weight",
		"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
		"base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias",
		"base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
		"base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector",
		"base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight",
		"base_model.model.model.layers.0.self_attn.v_proj.lora_B.bias",
		"base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
		"base_model.model.model.layers.0.self_attn.v_proj.lora_magnitude_vector",
	}
	if !slices.Equal(keys, want) {
		t.Errorf("keys = %q, want %q", keys, want)
	}
	if v, _ := src.Metadata().String("format"); v != "pt" {
		t.Errorf("metadata format = %q, want pt", v)
	}
}

// TestWrittenConfigFieldsLikePEFT checks that every key lorakit writes is
// one the real PEFT config has, with the same JSON type, so PEFT accepts it.
func TestWrittenConfigFieldsLikePEFT(t *testing.T) {
	dir := sharedDir(t, tigrinya)
	real := map[string]any{}
	data, err := os.ReadFile(filepath.Join(dir, peftConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &real); err != nil {
		t.Fatal(err)
	}
	a := &Adapter{Modules: []*Module{{Name: "transformer.h.0.attn.c_attn", Rank: 2, In: 2, Out: 6, Alpha: 4, A: seq(4, 1), B: seq(12, 1), FanInFanOut: true}}}
	out := filepath.Join(t.TempDir(), "adapter")
	if err := WritePEFT(a, out, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	ours := map[string]any{}
	data, err = os.ReadFile(filepath.Join(out, peftConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ours); err != nil {
		t.Fatal(err)
	}
	kind := func(v any) string {
		switch v.(type) {
		case nil:
			return "null"
		case float64:
			return "number"
		}
		return fmt.Sprintf("%T", v)
	}
	for k, v := range ours {
		rv, ok := real[k]
		if !ok {
			t.Errorf("we write %q, which PEFT's config does not have", k)
			continue
		}
		// null in one and a value in the other is fine (optional fields).
		if kind(v) != kind(rv) && v != nil && rv != nil {
			t.Errorf("%q: we write a %s, PEFT a %s", k, kind(v), kind(rv))
		}
	}
	for _, k := range []string{"peft_type", "r", "lora_alpha", "target_modules", "fan_in_fan_out"} {
		if _, ok := ours[k]; !ok {
			t.Errorf("config lacks %q", k)
		}
	}
	if ours["peft_type"] != "LORA" || ours["r"] != 2.0 || ours["lora_alpha"] != 4.0 || ours["fan_in_fan_out"] != true {
		t.Errorf("config = %v", ours)
	}
}

func TestReadPEFTBadInput(t *testing.T) {
	const cfg = `{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q"]}`
	a22 := f32Tensor("base_model.model.m.q.lora_A.weight", []int64{2, 3}, seq(6, 1))
	b22 := f32Tensor("base_model.model.m.q.lora_B.weight", []int64{4, 2}, seq(8, 1))
	nan := seq(8, 1)
	nan[5] = float32(math.NaN())
	tests := []struct {
		name    string
		dir     func(t *testing.T) string
		want    error
		mention string
	}{
		{"missing config", func(t *testing.T) string { return writePEFTDir(t, "", a22, b22) }, format.ErrNotFound, "adapter_config.json"},
		{"missing weights", func(t *testing.T) string {
			d := t.TempDir()
			os.WriteFile(filepath.Join(d, peftConfigFile), []byte(cfg), 0o644)
			return d
		}, format.ErrNotFound, peftWeightsFile},
		{"pickle only", func(t *testing.T) string {
			d := t.TempDir()
			os.WriteFile(filepath.Join(d, peftConfigFile), []byte(cfg), 0o644)
			os.WriteFile(filepath.Join(d, peftPickleFile), []byte("PK\x03\x04"), 0o644)
			return d
		}, format.ErrUnsupported, "pickle"},
		{"unknown peft_type", func(t *testing.T) string {
			return writePEFTDir(t, `{"peft_type": "IA3", "target_modules": ["q"]}`, a22, b22)
		}, format.ErrUnsupported, "IA3"},
		{"rank 0 in config", func(t *testing.T) string {
			return writePEFTDir(t, `{"peft_type": "LORA", "r": 0}`, a22, b22)
		}, format.ErrFormat, "r = 0"},
		{"rank disagrees with config", func(t *testing.T) string {
			return writePEFTDir(t, `{"peft_type": "LORA", "r": 4}`, a22, b22)
		}, format.ErrShape, `"m.q"`},
		{"A/B rank mismatch", func(t *testing.T) string {
			return writePEFTDir(t, cfg, a22, f32Tensor("base_model.model.m.q.lora_B.weight", []int64{2, 4}, seq(8, 1)))
		}, format.ErrShape, `"m.q"`},
		{"NaN in B", func(t *testing.T) string {
			return writePEFTDir(t, cfg, a22, f32Tensor("base_model.model.m.q.lora_B.weight", []int64{4, 2}, nan))
		}, format.ErrFormat, `"m.q": B[5]`},
		{"A without B", func(t *testing.T) string { return writePEFTDir(t, cfg, a22) }, format.ErrFormat, `"m.q"`},
		{"3-D A", func(t *testing.T) string {
			return writePEFTDir(t, cfg, f32Tensor("base_model.model.m.q.lora_A.weight", []int64{2, 3, 1}, seq(6, 1)), b22)
		}, format.ErrShape, `"m.q"`},
		{"use_dora without magnitude", func(t *testing.T) string {
			return writePEFTDir(t, `{"peft_type": "LORA", "r": 2, "use_dora": true}`, a22, b22)
		}, format.ErrFormat, "lora_magnitude_vector"},
		{"truncated tensors", func(t *testing.T) string {
			d := writePEFTDir(t, cfg, a22, b22)
			p := filepath.Join(d, peftWeightsFile)
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()-4)
			return d
		}, format.ErrFormat, peftWeightsFile},
		{"config not JSON", func(t *testing.T) string { return writePEFTDir(t, `{"peft_type": "LORA",`, a22, b22) }, format.ErrFormat, peftConfigFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			_, err := ReadPEFT(dir)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadPEFT() error = %v, want %v", err, tt.want)
			}
			msg := err.Error()
			if !bytes.Contains([]byte(msg), []byte(tt.mention)) || bytes.ContainsRune([]byte(msg), '\n') {
				t.Errorf("error %q: want one line mentioning %q", msg, tt.mention)
			}
		})
	}
}

func TestWritePEFTRefusals(t *testing.T) {
	a := &Adapter{Modules: []*Module{{Name: "m.q", Rank: 1, In: 2, Out: 2, Alpha: 1, A: seq(2, 1), B: seq(2, 1)}}}
	t.Run("existing output without force", func(t *testing.T) {
		out := t.TempDir()
		if err := WritePEFT(a, out, WriteOptions{}); !errors.Is(err, format.ErrExists) {
			t.Fatalf("WritePEFT() error = %v, want ErrExists", err)
		}
	})
	t.Run("force replaces an adapter directory", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "adapter")
		if err := WritePEFT(a, out, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		a.Modules[0].Alpha = 2
		defer func() { a.Modules[0].Alpha = 1 }()
		if err := WritePEFT(a, out, WriteOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
		b, err := ReadPEFT(out)
		if err != nil || b.Modules[0].Alpha != 2 {
			t.Fatalf("after force: %v, %v", b, err)
		}
		if names := dirNames(t, filepath.Dir(out)); !slices.Equal(names, []string{"adapter"}) {
			t.Errorf("parent holds %v, want only the adapter (no temporary left)", names)
		}
	})
	t.Run("force refuses a directory of other files", func(t *testing.T) {
		out := t.TempDir()
		os.WriteFile(filepath.Join(out, "precious.txt"), []byte("x"), 0o644)
		if err := WritePEFT(a, out, WriteOptions{Force: true}); !errors.Is(err, format.ErrExists) {
			t.Fatalf("WritePEFT() error = %v, want ErrExists", err)
		}
	})
	t.Run("failure leaves no output", func(t *testing.T) {
		parent := t.TempDir()
		out := filepath.Join(parent, "adapter")
		bad := &Adapter{Modules: []*Module{{Name: "m.q", Rank: 1, In: 2, Out: 2, Alpha: 1, A: seq(2, 1), B: seq(2, 1)}},
			Saved: []Tensor{{Name: "w", DType: format.F32, Shape: []int64{3}, Data: []byte{1, 2}}}} // 2 bytes for 3 floats
		if err := WritePEFT(bad, out, WriteOptions{}); err == nil {
			t.Fatal("WritePEFT() succeeded with a short saved tensor")
		}
		if names := dirNames(t, parent); len(names) != 0 {
			t.Errorf("after a failed write the parent holds %v, want nothing", names)
		}
	})
	t.Run("invalid module", func(t *testing.T) {
		bad := &Adapter{Modules: []*Module{{Name: "m.q", Rank: 0, In: 2, Out: 2, Alpha: 1}}}
		err := WritePEFT(bad, filepath.Join(t.TempDir(), "x"), WriteOptions{})
		if !errors.Is(err, format.ErrShape) {
			t.Fatalf("WritePEFT() error = %v, want ErrShape", err)
		}
	})
}
