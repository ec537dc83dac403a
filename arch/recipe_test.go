package arch_test

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/internal/testshared"
)

// TestHyperparamsFixtures reads the hyperparameters of the llama.cpp-made
// architecture fixtures; the wanted values are the ones their README
// lists (and llama.cpp's defaults where a key is absent).
func TestHyperparamsFixtures(t *testing.T) {
	dir := testshared.Path(t, "fixtures/arch")
	noSWA := []bool{false, false}
	cases := []struct {
		stem string
		want arch.Hyperparams
	}{
		{"qwen2", arch.Hyperparams{Arch: "qwen2", Embd: 128, Heads: 4, KVHeads: 2, HeadDim: 32, FF: 64, RopeDims: 32,
			RopeBase: 1e6, RopeBaseSWA: 1e6, NormEps: 1e-6, SWALayers: noSWA}},
		{"qwen3", arch.Hyperparams{Arch: "qwen3", Embd: 128, Heads: 4, KVHeads: 2, HeadDim: 24, FF: 64, RopeDims: 24,
			RopeBase: 1e6, RopeBaseSWA: 1e6, NormEps: 1e-6, SWALayers: noSWA}},
		{"gemma2", arch.Hyperparams{Arch: "gemma2", Embd: 128, Heads: 6, KVHeads: 2, HeadDim: 16, FF: 64, RopeDims: 16,
			RopeBase: 1e4, RopeBaseSWA: 1e4, NormEps: 1e-6, AttnSoftcap: float64(float32(0.1)), FinalSoftcap: 0.5, Window: 3, SWALayers: []bool{true, false}}},
		{"gemma3", arch.Hyperparams{Arch: "gemma3", Embd: 128, Heads: 2, KVHeads: 1, HeadDim: 48, FF: 64, RopeDims: 48,
			RopeBase: 1e6, RopeBaseSWA: 1e4, NormEps: 1e-6, Window: 3, SWALayers: []bool{true, false}}},
		{"phi3", arch.Hyperparams{Arch: "phi3", Embd: 128, Heads: 4, KVHeads: 2, HeadDim: 32, FF: 64, RopeDims: 32,
			RopeBase: 1e4, RopeBaseSWA: 1e4, NormEps: 1e-5, SWALayers: noSWA}},
		{"llama31", arch.Hyperparams{Arch: "llama", Embd: 128, Heads: 4, KVHeads: 1, HeadDim: 32, FF: 64, RopeDims: 32,
			RopeBase: 5e5, RopeBaseSWA: 5e5, NormEps: 1e-5, SWALayers: noSWA}},
		{"mixtral", arch.Hyperparams{Arch: "llama", Embd: 128, Heads: 4, KVHeads: 2, HeadDim: 16, FF: 32, RopeDims: 16,
			RopeBase: 1e6, RopeBaseSWA: 1e6, NormEps: 1e-5, SWALayers: noSWA, Experts: 4, ExpertsUsed: 2, ExpertFF: 32}},
		// expert width from expert_feed_forward_length, not 96/2
		{"qwen3moe", arch.Hyperparams{Arch: "qwen3moe", Embd: 128, Heads: 4, KVHeads: 2, HeadDim: 24, FF: 96, RopeDims: 24,
			RopeBase: 1e6, RopeBaseSWA: 1e6, NormEps: 1e-6, SWALayers: noSWA, Experts: 4, ExpertsUsed: 2, ExpertFF: 32}},
	}
	for _, c := range cases {
		t.Run(c.stem, func(t *testing.T) {
			src, err := gguf.Open(filepath.Join(dir, c.stem+"-f32.gguf"))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			name, _ := src.Metadata().String("general.architecture")
			r, err := arch.RecipeFor(name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Hyperparams(src.Metadata())
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			want.Context, want.Layers, want.RopeScale = 256, 2, 1
			want.AttnScale = 1 / math.Sqrt(float64(want.HeadDim))
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Hyperparams(%s) =\n%+v, want\n%+v", c.stem, got, want)
			}
		})
	}
}

// TestHyperparamsDefaults checks llama.cpp's defaults and rules where keys
// are absent (src/models/gemma2.cpp, gemma3.cpp, llama-hparams.cpp
// set_swa_pattern: layer il is SWA when il % period < period−1).
func TestHyperparamsDefaults(t *testing.T) {
	base := func(a string, layers int, extra ...format.KV) format.Metadata {
		md := format.Metadata{
			{Key: a + ".context_length", Value: uint32(64)}, {Key: a + ".embedding_length", Value: uint32(64)},
			{Key: a + ".block_count", Value: uint32(layers)}, {Key: a + ".attention.head_count", Value: uint32(4)},
			{Key: a + ".feed_forward_length", Value: uint32(32)}, {Key: a + ".attention.layer_norm_rms_epsilon", Value: float32(1e-6)},
		}
		return append(md, extra...)
	}
	T, F := true, false
	cases := []struct {
		name  string
		arch  string
		md    format.Metadata
		check func(h arch.Hyperparams) bool
	}{
		{"gemma2 defaults: window 4096, period 2, caps 50 and 30", "gemma2", base("gemma2", 4),
			func(h arch.Hyperparams) bool {
				return h.Window == 4096 && slices.Equal(h.SWALayers, []bool{T, F, T, F}) && h.AttnSoftcap == 50 && h.FinalSoftcap == 30
			}},
		{"gemma2 27B: scale 1/sqrt(n_embd/n_head)", "gemma2", base("gemma2", 46, format.KV{Key: "gemma2.attention.key_length", Value: uint32(32)},
			format.KV{Key: "gemma2.attention.value_length", Value: uint32(32)}),
			func(h arch.Hyperparams) bool { return h.HeadDim == 32 && h.AttnScale == 1/math.Sqrt(16) }},
		{"gemma2 head dim scale", "gemma2", base("gemma2", 26, format.KV{Key: "gemma2.attention.key_length", Value: uint32(32)},
			format.KV{Key: "gemma2.attention.value_length", Value: uint32(32)}),
			func(h arch.Hyperparams) bool { return h.AttnScale == 1/math.Sqrt(32) }},
		{"gemma3 without a window: no SWA, no final cap", "gemma3", base("gemma3", 3),
			func(h arch.Hyperparams) bool {
				return h.Window == 0 && slices.Equal(h.SWALayers, []bool{F, F, F}) && h.FinalSoftcap == 0 && h.AttnSoftcap == 0
			}},
		{"gemma3 window, default period 6, SWA base 10000", "gemma3", base("gemma3", 7, format.KV{Key: "gemma3.attention.sliding_window", Value: uint32(512)},
			format.KV{Key: "gemma3.rope.freq_base", Value: float32(1e6)}),
			func(h arch.Hyperparams) bool {
				return h.Window == 512 && slices.Equal(h.SWALayers, []bool{T, T, T, T, T, F, T}) && h.RopeBaseSWA == 1e4 && h.RopeBase == 1e6
			}},
		{"gemma3 period 0: every layer SWA", "gemma3", base("gemma3", 2, format.KV{Key: "gemma3.attention.sliding_window", Value: uint32(8)},
			format.KV{Key: "gemma3.attention.sliding_window_pattern", Value: uint32(0)}),
			func(h arch.Hyperparams) bool { return slices.Equal(h.SWALayers, []bool{T, T}) }},
		{"phi3 ignores sliding_window, as llama.cpp", "phi3", base("phi3", 2, format.KV{Key: "phi3.attention.sliding_window", Value: uint32(8)}),
			func(h arch.Hyperparams) bool { return h.Window == 0 && slices.Equal(h.SWALayers, []bool{F, F}) }},
		{"linear rope scaling", "qwen2", base("qwen2", 1, format.KV{Key: "qwen2.rope.scaling.factor", Value: float32(4)}),
			func(h arch.Hyperparams) bool { return h.RopeScale == 0.25 && h.RopeBase == 10000 }},
		{"llama: rope.dimension_count", "llama", base("llama", 1, format.KV{Key: "llama.rope.dimension_count", Value: uint32(8)}),
			func(h arch.Hyperparams) bool { return h.RopeDims == 8 && h.HeadDim == 16 }},
		{"qwen3moe without expert_feed_forward_length: n_ff/used", "qwen3moe", base("qwen3moe", 1,
			format.KV{Key: "qwen3moe.expert_count", Value: uint32(8)}, format.KV{Key: "qwen3moe.expert_used_count", Value: uint32(2)}),
			func(h arch.Hyperparams) bool { return h.Experts == 8 && h.ExpertsUsed == 2 && h.ExpertFF == 16 }},
		{"llama with expert_count 0: dense", "llama", base("llama", 1,
			format.KV{Key: "llama.expert_count", Value: uint32(0)}, format.KV{Key: "llama.expert_used_count", Value: uint32(0)}),
			func(h arch.Hyperparams) bool { return h.Experts == 0 && h.ExpertsUsed == 0 }},
		{"llama experts: n_ff each", "llama", base("llama", 1,
			format.KV{Key: "llama.expert_count", Value: uint32(8)}, format.KV{Key: "llama.expert_used_count", Value: uint32(2)}),
			func(h arch.Hyperparams) bool { return h.Experts == 8 && h.ExpertFF == 32 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := arch.RecipeFor(c.arch)
			if err != nil {
				t.Fatal(err)
			}
			h, err := r.Hyperparams(c.md)
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(h) {
				t.Errorf("Hyperparams = %+v", h)
			}
		})
	}
}

// TestRecipeForUnknown: an unknown architecture is refused, naming every
// known one.
func TestRecipeForUnknown(t *testing.T) {
	for _, name := range []string{"mamba", "", "Llama", "gemma"} {
		_, err := arch.RecipeFor(name)
		if !errors.Is(err, format.ErrUnsupported) {
			t.Fatalf("RecipeFor(%q) error = %v, want ErrUnsupported", name, err)
		}
		for _, k := range arch.RecipeArchs() {
			if !strings.Contains(err.Error(), k) {
				t.Errorf("RecipeFor(%q) error %q does not list %s", name, err, k)
			}
		}
	}
}

// TestRecipesConsistent checks the recipe table's own rules: a plain MLP
// is GPT-2's GELU one, a fused gate|up belongs to a gated MLP, learned
// positions go without RoPE.
func TestRecipesConsistent(t *testing.T) {
	for _, name := range arch.RecipeArchs() {
		r, _ := arch.RecipeFor(name)
		switch {
		case r.MLP == arch.MLPPlain && (r.Act != arch.GELUTanh || r.FusedGateUp):
			t.Errorf("%s: a plain MLP is GELU without a fused gate", name)
		case r.PosEmbd == (r.Rope != arch.RopeNone):
			t.Errorf("%s: learned positions and RoPE exclude each other", name)
		case r.EpsKey == "":
			t.Errorf("%s: no norm epsilon key", name)
		}
	}
}

func ExampleRecipeFor() {
	r, err := arch.RecipeFor("gemma2")
	if err != nil {
		panic(err)
	}
	h, err := r.Hyperparams(format.Metadata{
		{Key: "gemma2.context_length", Value: uint32(8192)}, {Key: "gemma2.embedding_length", Value: uint32(2304)},
		{Key: "gemma2.block_count", Value: uint32(26)}, {Key: "gemma2.attention.head_count", Value: uint32(8)},
		{Key: "gemma2.attention.head_count_kv", Value: uint32(4)}, {Key: "gemma2.attention.key_length", Value: uint32(256)},
		{Key: "gemma2.attention.value_length", Value: uint32(256)}, {Key: "gemma2.feed_forward_length", Value: uint32(9216)},
		{Key: "gemma2.attention.layer_norm_rms_epsilon", Value: float32(1e-6)},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.PostNorms, r.EmbedScale, h.Window, h.AttnSoftcap, h.FinalSoftcap, h.SWALayers[:4])
	// Output: true true 4096 50 30 [true false true false]
}

// FuzzHyperparams: any metadata values give hyperparameters that satisfy
// the relations the transformer relies on, or an error; never a panic.
func FuzzHyperparams(f *testing.F) {
	f.Add(uint8(4), uint32(128), uint32(2), uint32(6), uint32(2), uint32(16), uint32(64), uint32(3), uint32(2), float32(0.1), int64(4), int64(2))
	f.Add(uint8(0), uint32(64), uint32(1), uint32(4), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), float32(-1), int64(-3), int64(9))
	f.Fuzz(func(t *testing.T, which uint8, embd, layers, heads, kv, hd, rope, window, pattern uint32, capv float32, experts, used int64) {
		names := arch.RecipeArchs()
		name := names[int(which)%len(names)]
		r, _ := arch.RecipeFor(name)
		md := format.Metadata{
			{Key: name + ".context_length", Value: uint32(64)}, {Key: name + ".embedding_length", Value: embd},
			{Key: name + ".block_count", Value: layers}, {Key: name + ".attention.head_count", Value: heads},
			{Key: name + ".feed_forward_length", Value: uint32(32)}, {Key: r.EpsKey, Value: float32(1e-6)},
		}
		add := func(key string, v any) { md = append(md, format.KV{Key: name + "." + key, Value: v}) }
		if kv != 0 {
			add("attention.head_count_kv", kv)
		}
		if hd != 0 {
			add("attention.key_length", hd)
			add("attention.value_length", hd)
		}
		if rope != 0 {
			add("rope.dimension_count", rope)
		}
		add("attention.sliding_window", window)
		add("attention.sliding_window_pattern", pattern)
		add("attn_logit_softcapping", capv)
		add("expert_count", experts)
		add("expert_used_count", used)
		if layers > 1<<12 {
			return // only the allocation of SWALayers grows with it
		}
		h, err := r.Hyperparams(md)
		if err != nil {
			return
		}
		switch {
		case h.Heads <= 0 || h.KVHeads <= 0 || h.Heads%h.KVHeads != 0 || h.HeadDim <= 0:
			t.Fatalf("heads %d, kv %d, head dim %d accepted", h.Heads, h.KVHeads, h.HeadDim)
		case r.Rope != arch.RopeNone && (h.RopeDims <= 0 || h.RopeDims > h.HeadDim || h.RopeDims%2 != 0):
			t.Fatalf("rope dims %d with head dim %d accepted", h.RopeDims, h.HeadDim)
		case len(h.SWALayers) != h.Layers || h.Window < 0 || h.AttnSoftcap < 0:
			t.Fatalf("window %d, %d SWA flags for %d layers, cap %v accepted", h.Window, len(h.SWALayers), h.Layers, h.AttnSoftcap)
		case h.Experts > 0 && (h.ExpertsUsed <= 0 || h.ExpertsUsed > h.Experts || h.ExpertFF <= 0):
			t.Fatalf("%d experts, %d used, width %d accepted", h.Experts, h.ExpertsUsed, h.ExpertFF)
		}
	})
}
