package resolve

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/lora"
)

// writeBase writes a safetensors base of zero F32 tensors.
func writeBase(t *testing.T, path string, infos []format.TensorInfo) {
	t.Helper()
	sink, err := format.Create("safetensors", path, infos, nil, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range infos {
		n, _ := ti.NumBytes()
		if err := sink.WriteTensor(ti.Name, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestModuleLookup: Hugging Face names match through prefixes on either
// side, never across a layer index or ambiguously, and shapes are checked
// in the module's orientation.
func TestModuleLookup(t *testing.T) {
	dir := t.TempDir()
	m2 := func(name string, r, c int64) format.TensorInfo {
		return format.TensorInfo{Name: name, DType: format.F32, Shape: []int64{r, c}}
	}
	writeBase(t, filepath.Join(dir, "model.safetensors"), []format.TensorInfo{
		m2("h.0.attn.c_attn.weight", 4, 12),             // Conv1D: (in, out)
		m2("transformer.h.1.attn.c_attn.weight", 4, 12), // with the prefix
		m2("model.layers.0.self_attn.q_proj.weight", 8, 4),
		m2("a.proj.weight", 2, 2),
		m2("b.proj.weight", 2, 2),
	})
	b, err := Open(dir) // a bare directory: no config.json
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tests := []struct {
		name      string
		out, in   int
		fifo      bool
		want      string
		transpose bool
		err       error
	}{
		{"transformer.h.0.attn.c_attn", 12, 4, true, "h.0.attn.c_attn.weight", true, nil},
		{"h.1.attn.c_attn", 12, 4, true, "transformer.h.1.attn.c_attn.weight", true, nil},
		{"base_model.model.model.layers.0.self_attn.q_proj", 8, 4, false, "model.layers.0.self_attn.q_proj.weight", false, nil},
		{"model.layers.1.self_attn.q_proj", 8, 4, false, "", false, format.ErrNotFound}, // never another layer
		{"proj", 2, 2, false, "", false, format.ErrNotFound},                            // ambiguous
		{"model.layers.0.self_attn.q_proj", 4, 8, false, "", false, format.ErrShape},    // wrong orientation
	}
	for _, tc := range tests {
		got, err := b.Module(&lora.Module{Name: tc.name, Out: tc.out, In: tc.in, Rank: 1, FanInFanOut: tc.fifo})
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("Module(%q) = %v, want an error wrapping %v", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got.Tensor.Name != tc.want || got.Transposed != tc.transpose {
			t.Errorf("Module(%q) = %q transposed %v, %v; want %q transposed %v", tc.name, got.Tensor.Name, got.Transposed, err, tc.want, tc.transpose)
		}
	}
}

// TestGGUFBaseAdapt: a llama.cpp adapter on its GGUF base resolves every
// module by exact name, and its weight comes back (Out, In).
func TestGGUFBaseAdapt(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	b, err := Open(filepath.Join(fx, "llama-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := lora.Open(filepath.Join(fx, "llama-lora-r8.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Adapt(a, "llama-lora-r8"); err != nil {
		t.Fatal(err)
	}
	for _, m := range a.Modules {
		tg, err := b.Module(m)
		if err != nil {
			t.Fatal(err)
		}
		if tg.Tensor.Name != m.Name+".weight" || tg.Transposed {
			t.Errorf("module %q -> %q transposed %v", m.Name, tg.Tensor.Name, tg.Transposed)
		}
		w, err := b.Weight(tg)
		if err != nil || len(w) != m.Out*m.In {
			t.Errorf("Weight(%q) = %d values, %v; want %d", m.Name, len(w), err, m.Out*m.In)
		}
	}
	if _, err := Open(filepath.Join(fx, "llama-lora-r8.gguf")); !errors.Is(err, format.ErrFormat) {
		t.Errorf("Open(adapter) = %v, want ErrFormat", err)
	}
}
