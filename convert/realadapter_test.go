package convert

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// realAdapters are the real PEFT adapters of ../shared/data/adapters with
// their bases' published sizes (testdata/configs): GGUF shapes follow from
// them as llama.cpp lays the base out, attn_q [heads·head_dim, hidden],
// attn_k/attn_v [kv_heads·head_dim, hidden], attn_output [hidden,
// heads·head_dim].
var realAdapters = []struct {
	dir, family, config            string
	rank, heads, kv, headDim, embd int
	layers                         int
	modules                        []string // GGUF names of layer 0's adapted tensors
}{
	{"qwen2.5-0.5b-instruct-lora-r8-qv", "qwen2", "qwen2.5-0.5b-instruct.json", 8, 14, 2, 64, 896, 24, []string{"attn_q", "attn_v"}},
	{"gemma3-270m-it-lora-r4-qkvo", "gemma3", "gemma-3-270m-it.json", 4, 4, 1, 256, 640, 18, []string{"attn_q", "attn_k", "attn_v", "attn_output"}},
}

// TestRealAdapters: each real adapter is identified as its family (from
// base_model_name_or_path, or from --base), converts to a llama.cpp LoRA
// GGUF with llama.cpp's names and shapes and no RoPE permutation (B is
// unchanged), and comes back to PEFT with every dW within deltaTol.
func TestRealAdapters(t *testing.T) {
	for _, c := range realAdapters {
		t.Run(c.family, func(t *testing.T) {
			in := sharedPath(t, filepath.Join("data/adapters", c.dir))
			orig, err := lora.Open(in)
			if err != nil {
				t.Fatal(err)
			}
			if f, err := orig.Family(); err != nil || f.Name != c.family {
				t.Fatalf("Family() = %v, %v, want %s", f, err, c.family)
			}
			base := filepath.Join(t.TempDir(), "base")
			os.MkdirAll(base, 0o755)
			cfg, err := os.ReadFile(filepath.Join("..", "testdata", "configs", c.config))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(base, "config.json"), cfg, 0o644)
			dir := t.TempDir()
			g, back := filepath.Join(dir, "a.gguf"), filepath.Join(dir, "peft")
			if err := Adapter(in, g, AdapterOptions{}); err != nil {
				t.Fatal(err)
			}
			checkLlamaCppAdapter(t, g, c.family, c.rank, c.layers, c.modules, map[string][2]int{
				"attn_q": {c.heads * c.headDim, c.embd}, "attn_k": {c.kv * c.headDim, c.embd},
				"attn_v": {c.kv * c.headDim, c.embd}, "attn_output": {c.embd, c.heads * c.headDim},
			})
			// --base (config.json only) and --arch give the same file.
			for _, opt := range []AdapterOptions{{Base: base}, {Arch: c.family}} {
				g2 := filepath.Join(t.TempDir(), "a.gguf")
				if err := Adapter(in, g2, opt); err != nil {
					t.Fatalf("Adapter(%+v): %v", opt, err)
				}
				sameHashes(t, fmt.Sprintf("Adapter(%+v)", opt), hashes(t, g2), hashes(t, g))
			}
			if err := Adapter(g, back, AdapterOptions{To: "peft"}); err != nil {
				t.Fatal(err)
			}
			got, err := lora.Open(back)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Modules) != len(orig.Modules) {
				t.Fatalf("%d modules after the round trip, want %d", len(got.Modules), len(orig.Modules))
			}
			for _, m := range orig.Modules {
				gm := got.Module(m.Name)
				if gm == nil {
					t.Fatalf("module %s lost (got names like %s)", m.Name, got.Modules[0].Name)
				}
				if rel := relDiff(gm.Delta(), m.Delta()); rel > deltaTol {
					t.Errorf("module %s: dW differs by %g relative", m.Name, rel)
				}
			}
		})
	}
}

// checkLlamaCppAdapter checks a LoRA GGUF against llama.cpp's conventions:
// general.architecture the base's, tensors <base tensor>.lora_a of shape
// [r, in] and .lora_b [out, r] (row-major; ggml ne reversed), B rows in
// HF order (no RoPE permutation for NEOX families).
func checkLlamaCppAdapter(t *testing.T, path, family string, rank, layers int, modules []string, shapes map[string][2]int) {
	t.Helper()
	src, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	md := src.Metadata()
	for k, want := range map[string]string{"general.architecture": family, "general.type": "adapter", "adapter.type": "lora"} {
		if v, _ := md.String(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if _, ok := md.Get("adapter.lora.alpha"); !ok {
		t.Error("adapter.lora.alpha missing")
	}
	re := regexp.MustCompile(`^blk\.(\d+)\.([a-z_]+)\.weight\.lora_([ab])$`)
	seen := 0
	for _, ti := range src.Tensors() {
		m := re.FindStringSubmatch(ti.Name)
		if m == nil {
			t.Fatalf("tensor %q is not named as llama.cpp's LoRA tensors", ti.Name)
		}
		s, ok := shapes[m[2]]
		if !ok {
			t.Fatalf("tensor %q adapts %s, which the adapter does not target", ti.Name, m[2])
		}
		want := []int64{int64(rank), int64(s[1])}
		if m[3] == "b" {
			want = []int64{int64(s[0]), int64(rank)}
		}
		if !format.SameShape(ti.Shape, want) {
			t.Errorf("tensor %s shape %v, want %v", ti.Name, ti.Shape, want)
		}
		seen++
	}
	if want := 2 * layers * len(modules); seen != want {
		t.Errorf("%d tensors, want %d", seen, want)
	}
	for _, mod := range modules {
		name := fmt.Sprintf("blk.0.%s.weight.lora_b", mod)
		if _, ok := format.TensorIndex(src.Tensors(), name); !ok {
			t.Errorf("tensor %s missing", name)
		}
	}
}

// TestRealAdapterRowsNotPermuted: Qwen2 and Gemma 3 run NEOX rope, so a
// q adapter's B reaches the GGUF with its rows as PEFT stored them.
func TestRealAdapterRowsNotPermuted(t *testing.T) {
	for _, c := range realAdapters {
		in := sharedPath(t, filepath.Join("data/adapters", c.dir))
		orig, err := lora.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		g := filepath.Join(t.TempDir(), "a.gguf")
		if err := Adapter(in, g, AdapterOptions{}); err != nil {
			t.Fatal(err)
		}
		conv, err := lora.Open(g)
		if err != nil {
			t.Fatal(err)
		}
		pm := orig.Module("model.layers.0.self_attn.q_proj")
		gm := conv.Module("blk.0.attn_q")
		if pm == nil || gm == nil {
			t.Fatalf("%s: q module of layer 0 missing", c.family)
		}
		s := pm.Scale() / gm.Scale()
		for i := range pm.B {
			if float64(gm.B[i]) != float64(float32(float64(pm.B[i])*s)) {
				t.Fatalf("%s: B[%d] = %v, PEFT's %v (scale %v): rows moved", c.family, i, gm.B[i], pm.B[i], s)
			}
		}
	}
}

// TestAdapterIdentification: an adapter whose family cannot be told is
// refused with a request for --base or --arch, never converted as llama;
// an adapter on a module its family lacks is refused; nothing is written.
func TestAdapterIdentification(t *testing.T) {
	qwen := sharedPath(t, "data/adapters/qwen2.5-0.5b-instruct-lora-r8-qv")
	edited := func(f func(a *lora.Adapter)) string {
		a, err := lora.Open(qwen)
		if err != nil {
			t.Fatal(err)
		}
		f(a)
		dir := filepath.Join(t.TempDir(), "peft")
		if err := lora.WritePEFT(a, dir, lora.WriteOptions{DType: format.F32}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	anonymous := edited(func(a *lora.Adapter) { a.Config.BaseModel = "my-org/my-finetune" })
	phiModule := edited(func(a *lora.Adapter) {
		a.Modules[0].Name = "model.layers.0.self_attn.qkv_proj"
	})
	visionModule := edited(func(a *lora.Adapter) {
		a.Config.BaseModel = "google/gemma-3-4b-it"
		a.Modules[0].Name = "model.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj"
	})
	expertModule := edited(func(a *lora.Adapter) {
		a.Config.BaseModel = "Qwen/Qwen3-30B-A3B"
		a.Modules[0].Name = "model.layers.0.mlp.experts.3.gate_proj"
	})
	for _, c := range []struct {
		name, in string
		opt      AdapterOptions
		want     error
		say      string
	}{
		{"ambiguous without a name", anonymous, AdapterOptions{}, format.ErrUnsupported, "--arch"},
		{"ambiguous names the RoPE question", anonymous, AdapterOptions{}, format.ErrUnsupported, "RoPE"},
		{"module the family lacks", phiModule, AdapterOptions{}, format.ErrUnsupported, "qwen2"},
		{"expert module without a base (expert count unknown)", expertModule, AdapterOptions{}, format.ErrUnsupported, "ffn_gate_exps"},
		{"vision tower module", visionModule, AdapterOptions{}, format.ErrUnsupported, "text tower"},
		{"module the --arch family lacks", qwen, AdapterOptions{Arch: "phi3"}, format.ErrUnsupported, "q_proj"},
		{"unknown --arch", qwen, AdapterOptions{Arch: "mamba"}, format.ErrUnsupported, "known: bert, gemma2"},
		{"--arch against the base", qwen, AdapterOptions{Arch: "gemma3", Base: sharedPath(t, "fixtures/hf-convert/hf/qwen2")}, format.ErrInvalidOption, "qwen2"},
		{"llama q without heads", anonymous, AdapterOptions{Arch: "llama"}, format.ErrUnsupported, "head count"},
		{"shape against the base", qwen, AdapterOptions{Base: sharedPath(t, "fixtures/hf-convert/hf/qwen2")}, format.ErrShape, "blk.0.attn_q"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "a.gguf")
			err := Adapter(c.in, out, c.opt)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.say) {
				t.Errorf("Adapter = %v, want %v mentioning %q", err, c.want, c.say)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Error("failed conversion left an output")
			}
		})
	}
	// With the name gone, --arch settles it.
	if err := Adapter(anonymous, filepath.Join(t.TempDir(), "a.gguf"), AdapterOptions{Arch: "qwen2"}); err != nil {
		t.Errorf("Adapter(--arch qwen2) = %v", err)
	}
}

// TestArchFixtureAdaptersThroughPEFT: the llama.cpp LoRA GGUFs of
// ../shared/fixtures/arch convert to PEFT (HF module names of each family:
// Phi-3's fused qkv_proj, Llama's q rows un-permuted with the base's
// heads) and back to the same tensors, bit for bit.
func TestArchFixtureAdaptersThroughPEFT(t *testing.T) {
	root := sharedPath(t, "fixtures/arch")
	for _, c := range []struct{ stem, module string }{
		{"qwen2", "model.layers.0.self_attn.q_proj"},
		{"qwen3", "model.layers.0.self_attn.q_proj"},
		{"gemma2", "model.layers.0.self_attn.v_proj"},
		{"gemma3", "model.layers.1.self_attn.q_proj"},
		{"phi3", "model.layers.0.self_attn.qkv_proj"},
		{"llama31", "model.layers.1.self_attn.q_proj"},
		// 3-D expert adapters: one PEFT module per expert, stacked back.
		{"mixtral", "model.layers.0.block_sparse_moe.experts.0.w3"},
		{"qwen3moe", "model.layers.0.mlp.experts.0.down_proj"},
	} {
		t.Run(c.stem, func(t *testing.T) {
			in, base := filepath.Join(root, c.stem+"-lora-r4.gguf"), filepath.Join(root, c.stem+"-f32.gguf")
			dir := t.TempDir()
			peft, back := filepath.Join(dir, "peft"), filepath.Join(dir, "back.gguf")
			if err := Adapter(in, peft, AdapterOptions{To: "peft", Base: base}); err != nil {
				t.Fatal(err)
			}
			p, err := lora.Open(peft)
			if err != nil {
				t.Fatal(err)
			}
			if p.Module(c.module) == nil {
				t.Errorf("PEFT adapter lacks module %s (has %s, ...)", c.module, p.Modules[0].Name)
			}
			if err := Adapter(peft, back, AdapterOptions{Base: base}); err != nil {
				t.Fatal(err)
			}
			sameHashes(t, "GGUF -> PEFT -> GGUF", hashes(t, back), hashes(t, in))
		})
	}
}
