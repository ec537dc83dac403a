package lora

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
)

const discollama = "data/adapters/ollama-discollama-mlx-lora"

// TestReadMLXDiscollama reads the real mlx-lm adapter and checks it against
// ollama's expected GGUF (discollama.expected-gguf-kv.json): alpha 16 over
// rank 8, and the sha256 of each tensor ollama writes as F16. MLX stores
// lora_a (in, r) and lora_b (r, out); our A (r, in) and B (out, r), cast to
// F16, must hash like ollama's .lora_a / .lora_b.
//
// blk.N.attn_q.weight.lora_a is the exception: ollama applies llama.cpp's
// q/k RoPE row permutation to lora_a's columns, i.e. to the *input* axis of
// A. The permutation acts on W_q's output rows, which belong to B, so
// ollama's q lora_a is permuted where it should not be (and its lora_b,
// which matches ours unpermuted below, is not permuted where it should be).
// Package convert owns that permutation; here A stays as the file has it.
func TestReadMLXDiscollama(t *testing.T) {
	dir := sharedDir(t, discollama)
	a, err := ReadMLX(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "discollama.expected-gguf-kv.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]string
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if a.Kind != KindMLX || len(a.Modules) != 4 {
		t.Fatalf("Kind %v, %d modules, want mlx, 4", a.Kind, len(a.Modules))
	}
	if got := fmt.Sprint(a.Config.LoraAlpha); got != want["adapter.lora.alpha"] || a.Config.R != 8 {
		t.Errorf("config alpha %s r %d, want %s 8", got, a.Config.R, want["adapter.lora.alpha"])
	}
	outs := map[string]int{"q_proj": 4096, "v_proj": 1024} // GQA: 8 KV heads x 128
	checked := 0
	for _, layer := range []int{30, 31} {
		for proj, gg := range map[string]string{"q_proj": "attn_q", "v_proj": "attn_v"} {
			name := fmt.Sprintf("model.layers.%d.self_attn.%s", layer, proj)
			m := a.Module(name)
			if m == nil {
				t.Fatalf("Module(%q) = nil", name)
			}
			if m.Rank != 8 || m.In != 4096 || m.Out != outs[proj] || m.Scale() != 2 {
				t.Errorf("%s: rank %d in %d out %d scale %v, want 8 4096 %d 2", name, m.Rank, m.In, m.Out, m.Scale(), outs[proj])
			}
			for part, vals := range map[string][]float32{"lora_a": m.A, "lora_b": m.B} {
				if proj == "q_proj" && part == "lora_a" {
					continue // permuted by ollama, see above
				}
				buf := make([]byte, 2*len(vals))
				if err := format.FromFloat32(buf, vals, format.F16); err != nil {
					t.Fatal(err)
				}
				key := fmt.Sprintf("blk.%d.%s.weight.%s", layer, gg, part)
				if got := sha256Hex(buf); got != want[key] {
					t.Errorf("%s %s: sha256(F16) = %s, want ollama's %s", name, part, got, want[key])
				}
				checked++
			}
		}
	}
	if checked != 6 {
		t.Errorf("checked %d tensors, want 6", checked)
	}
}

func TestMLXScaleRules(t *testing.T) {
	tests := []struct {
		name   string
		params string
		scale  float64
	}{
		{"scale wins (mlx-lm: y += scale*BAx)", `{"rank": 2, "alpha": 16, "scale": 2.0}`, 2},
		{"scale only", `{"rank": 2, "scale": 10}`, 10},
		{"alpha only: alpha/r", `{"rank": 2, "alpha": 16}`, 8},
		{"neither: mlx-lm default 20", `{"rank": 2}`, mlxDefaultScale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := mlxDir(t, `{"fine_tune_type": "lora", "lora_parameters": `+tt.params+`}`)
			a, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if a.Kind != KindMLX {
				t.Fatalf("Kind = %v, want mlx", a.Kind)
			}
			m := a.Modules[0]
			if m.Scale() != tt.scale {
				t.Errorf("Scale() = %v, want %v", m.Scale(), tt.scale)
			}
			// lora_a (in 3, r 2) = seq(6, 1) -> A (2, 3) is its transpose.
			if m.In != 3 || m.Out != 4 || m.A[1] != 1.5 || m.A[3] != 1.25 || m.B[1] != seq(8, 0)[4] {
				t.Errorf("A %v B %v: not the transposes of lora_a / lora_b", m.A, m.B)
			}
		})
	}
}

func TestReadMLXBadInput(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   error
	}{
		{"full fine-tune", `{"fine_tune_type": "full"}`, format.ErrUnsupported},
		{"rank disagrees", `{"lora_parameters": {"rank": 4, "scale": 1}}`, format.ErrShape},
		{"dora without magnitude", `{"fine_tune_type": "dora", "lora_parameters": {"rank": 2, "scale": 1}}`, format.ErrFormat},
		{"bad JSON", `{"lora_parameters": [}`, format.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadMLX(mlxDir(t, tt.config))
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadMLX() error = %v, want %v", err, tt.want)
			}
		})
	}
}

// mlxDir writes an mlx-lm adapter with one module: lora_a (3, 2), lora_b (2, 4).
func mlxDir(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, peftConfigFile), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	writeSafetensors(t, filepath.Join(dir, mlxWeightsFile), nil, []outTensor{
		f32Tensor("model.layers.0.self_attn.q_proj.lora_a", []int64{3, 2}, seq(6, 1)),
		f32Tensor("model.layers.0.self_attn.q_proj.lora_b", []int64{2, 4}, seq(8, 0)),
	})
	return dir
}
