package merge

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// writeGPT2Base writes a randomly initialised GPT-2-small-shaped Hugging
// Face base (n_embd 768, Conv1D weights stored (in, out)) holding the
// matrices the adapter targets in the given layers, plus a few others,
// streamed one tensor at a time. Values are 0.02·N(0,1) as GPT-2's init.
func writeGPT2Base(t testing.TB, path string, layers []int) {
	t.Helper()
	var infos []format.TensorInfo
	add := func(name string, shape ...int64) {
		infos = append(infos, format.TensorInfo{Name: name, DType: format.F32, Shape: shape})
	}
	add("wpe.weight", 64, 768)
	for _, l := range layers {
		add(fmt.Sprintf("h.%d.ln_1.weight", l), 768)
		add(fmt.Sprintf("h.%d.attn.c_attn.weight", l), 768, 2304)
		add(fmt.Sprintf("h.%d.attn.c_proj.weight", l), 768, 768)
		add(fmt.Sprintf("h.%d.mlp.c_proj.weight", l), 3072, 768)
	}
	sink, err := format.Create("safetensors", path, infos, format.Metadata{{Key: "format", Value: "pt"}}, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, ti := range infos {
		n, _ := ti.NumElements()
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(0.02 * rng.NormFloat64())
		}
		buf := make([]byte, 4*n)
		format.FromFloat32(buf, v, format.F32)
		if err := sink.WriteTensor(ti.Name, buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// extractRelTol: merged − base recovers ΔW up to float32 rounding of W'
// (|W| ≈ 0.02, ulp/2 ≈ 1e-9 against |ΔW| ≈ 1e-4..1e-2), and the rank-8
// SVD of an exactly rank-8 difference loses nothing else.
const extractRelTol = 1e-4

func TestRealGPT2AdapterMergeAndExtract(t *testing.T) {
	adapterDir := sharedDir(t, "data/adapters/gpt2-tigrinya-peft-lora")
	full, err := lora.ReadPEFT(adapterDir)
	if err != nil {
		t.Fatal(err)
	}
	layers := []int{0, 11}
	if !testing.Short() {
		layers = nil
		for l := range 12 {
			layers = append(layers, l)
		}
	}
	keep := map[string]bool{}
	for _, l := range layers {
		keep[fmt.Sprintf(".h.%d.", l)] = true
	}
	sub := *full
	sub.Modules = nil
	for _, m := range full.Modules {
		for k := range keep {
			if strings.Contains(m.Name, k) {
				sub.Modules = append(sub.Modules, m)
			}
		}
	}
	if len(sub.Modules) != 3*len(layers) {
		t.Fatalf("adapter has %d modules in layers %v, want 3 per layer", len(sub.Modules), layers)
	}
	dir := t.TempDir()
	basePath, merged := filepath.Join(dir, "base.safetensors"), filepath.Join(dir, "merged.safetensors")
	writeGPT2Base(t, basePath, layers)
	if _, err := Merge(context.Background(), basePath, []Input{{Path: adapterDir, Adapter: &sub, Scale: 1}}, merged, Options{}); err != nil {
		t.Fatal(err)
	}
	base, got := openSource(t, basePath), openSource(t, merged)
	// The merge, checked in float64: W' = W + s·(B·A)ᵀ for Conv1D.
	m0 := sub.Modules[0]
	name := strings.TrimPrefix(m0.Name, "transformer.") + ".weight"
	w, g := floats(t, base, name), floats(t, got, name)
	s := m0.Scale()
	for i := range m0.In {
		for o := range m0.Out {
			var d float64
			for k := range m0.Rank {
				d += float64(m0.B[o*m0.Rank+k]) * float64(m0.A[k*m0.In+i])
			}
			if want := float64(w[i*m0.Out+o]) + s*d; math.Abs(float64(g[i*m0.Out+o])-want) > 1e-6 {
				t.Fatalf("merged %s[%d,%d] = %g, want %g", name, i, o, g[i*m0.Out+o], want)
			}
		}
	}
	res, err := Extract(context.Background(), basePath, merged, ExtractOptions{Rank: full.Config.R})
	if err != nil {
		t.Fatal(err)
	}
	ex, reps := res.Adapter, res.Modules
	if len(reps) != len(sub.Modules) {
		t.Fatalf("extracted %d modules, want %d", len(reps), len(sub.Modules))
	}
	for _, m := range sub.Modules {
		e := ex.Module(m.Name)
		if e == nil {
			t.Fatalf("module %q not extracted (got names like %q)", m.Name, ex.Modules[0].Name)
		}
		if !e.FanInFanOut || e.In != m.In || e.Out != m.Out {
			t.Fatalf("%s: extracted fan_in_fan_out %v %dx%d, want true %dx%d", m.Name, e.FanInFanOut, e.Out, e.In, m.Out, m.In)
		}
		want, have := m.Delta(), e.Delta()
		var num, den float64
		for i := range want {
			num += (float64(have[i]) - float64(want[i])) * (float64(have[i]) - float64(want[i]))
			den += float64(want[i]) * float64(want[i])
		}
		if r := math.Sqrt(num / den); r > extractRelTol {
			t.Errorf("Extract: %s ‖ΔW' − ΔW‖/‖ΔW‖ = %g, want <= %g", m.Name, r, extractRelTol)
		}
	}
}
