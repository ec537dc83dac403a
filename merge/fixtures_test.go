package merge

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/x448/float16"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// llamaF32Tol: llama.cpp accumulates B·A in float32 in a kernel-specific
// order (fixtures README quirk 10); merged values agree to a few float32
// ulps of values up to ~0.3.
const llamaF32Tol = 1e-6

func TestMergeMatchesLlamaExportLora(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	for _, tc := range []struct{ base, adapter, ref string }{
		{"gpt2-f32", "gpt2-lora-r4", "gpt2-merged-f32"},
		{"llama-f32", "llama-lora-r8", "llama-merged-f32"},
		// Today's families (fixtures/arch): qwen2/qwen3/gemma names,
		// Phi-3's fused attn_qkv, Llama 3.1 with rope_freqs.
		{"arch/qwen2-f32", "arch/qwen2-lora-r4", "arch/qwen2-merged-f32"},
		{"arch/qwen3-f32", "arch/qwen3-lora-r4", "arch/qwen3-merged-f32"},
		{"arch/gemma2-f32", "arch/gemma2-lora-r4", "arch/gemma2-merged-f32"},
		{"arch/gemma3-f32", "arch/gemma3-lora-r4", "arch/gemma3-merged-f32"},
		{"arch/phi3-f32", "arch/phi3-lora-r4", "arch/phi3-merged-f32"},
		{"arch/llama31-f32", "arch/llama31-lora-r4", "arch/llama31-merged-f32"},
		// Stacked experts: 3-D lora_a/lora_b on ffn_up_exps / ffn_down_exps.
		{"arch/mixtral-f32", "arch/mixtral-lora-r4", "arch/mixtral-merged-f32"},
		{"arch/qwen3moe-f32", "arch/qwen3moe-lora-r4", "arch/qwen3moe-merged-f32"},
	} {
		t.Run(tc.base, func(t *testing.T) {
			basePath := filepath.Join(dir, tc.base+".gguf")
			out := filepath.Join(t.TempDir(), "merged.gguf")
			rep, err := Merge(context.Background(), basePath, []Input{{Path: filepath.Join(dir, tc.adapter+".gguf"), Scale: 1}}, out, Options{})
			if err != nil {
				t.Fatal(err)
			}
			base, ref, got := openSource(t, basePath), openSource(t, filepath.Join(dir, tc.ref+".gguf")), openSource(t, out)
			if !reflect.DeepEqual(got.Tensors(), base.Tensors()) {
				t.Errorf("output tensors (names, order, dtypes, shapes) differ from the base's")
			}
			if !reflect.DeepEqual(got.Metadata(), base.Metadata()) {
				t.Errorf("output metadata differs from the base's")
			}
			merged := map[string]bool{}
			for _, m := range rep.Merged {
				merged[m.Name] = true
			}
			if len(merged) == 0 {
				t.Fatal("nothing merged")
			}
			for _, ti := range base.Tensors() {
				if !merged[ti.Name] {
					a, _ := base.TensorData(ti.Name)
					b, _ := got.TensorData(ti.Name)
					if !bytes.Equal(a, b) {
						t.Errorf("untouched tensor %q changed", ti.Name)
					}
					continue
				}
				if d := maxAbsDiff(floats(t, got, ti.Name), floats(t, ref, ti.Name)); d > llamaF32Tol {
					t.Errorf("Merge: %s max |ours - llama.cpp| = %g, want <= %g", ti.Name, d, llamaF32Tol)
				}
			}
		})
	}
}

// f16UlpShare: llama.cpp's float32 sum order differs from ours, which moves
// at most this share of F16 roundings, each by one ulp (issue 5).
const f16UlpShare = 0.001

func TestMergeF16MatchesReference(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	basePath := filepath.Join(dir, "gpt2-f16.gguf")
	adapterPath := filepath.Join(dir, "gpt2-lora-r4.gguf")
	out := filepath.Join(t.TempDir(), "merged-f16.gguf")
	if _, err := Merge(context.Background(), basePath, []Input{{Path: adapterPath, Scale: 1}}, out, Options{DType: format.F16}); err != nil {
		t.Fatal(err)
	}
	a, err := lora.ReadGGUF(adapterPath)
	if err != nil {
		t.Fatal(err)
	}
	base, got := openSource(t, basePath), openSource(t, out)
	var total, diff int
	for _, m := range a.Modules {
		name := m.Name + ".weight"
		info, _ := format.TensorIndex(got.Tensors(), name)
		if info.DType != format.F16 {
			t.Fatalf("%s is %v, want F16", name, info.DType)
		}
		w := floats(t, base, name)
		raw, _ := got.TensorData(name)
		// Reference, computed independently: float16(float32(W) + float32(4)·D),
		// D = B·A in float64 rounded to float32.
		s := float32(m.Alpha / float64(m.Rank))
		for o := range m.Out {
			for i := range m.In {
				var d float64
				for k := range m.Rank {
					d += float64(m.B[o*m.Rank+k]) * float64(m.A[k*m.In+i])
				}
				want := float16.Fromfloat32(w[o*m.In+i] + s*float32(d))
				gotBits := float16.Frombits(uint16(raw[2*(o*m.In+i)]) | uint16(raw[2*(o*m.In+i)+1])<<8)
				total++
				if gotBits != want {
					diff++
					if d := int(gotBits.Bits()) - int(want.Bits()); d > 1 || d < -1 {
						t.Fatalf("%s[%d,%d] = %v, want %v (more than one ulp)", name, o, i, gotBits, want)
					}
				}
			}
		}
	}
	if float64(diff) > f16UlpShare*float64(total) {
		t.Errorf("Merge --dtype f16: %d of %d elements differ by one ulp, want at most %.1f%%", diff, total, 100*f16UlpShare)
	}
}

func TestMergeQ8_0StaysQ8_0(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	basePath := filepath.Join(dir, "gpt2-q8_0.gguf")
	out := filepath.Join(t.TempDir(), "merged-q8.gguf")
	rep, err := Merge(context.Background(), basePath, []Input{{Path: filepath.Join(dir, "gpt2-lora-r4.gguf"), Scale: 0.5}}, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	base, ref, got := openSource(t, basePath), openSource(t, filepath.Join(dir, "gpt2-q8_0-merged-s0.5.gguf")), openSource(t, out)
	if !reflect.DeepEqual(got.Tensors(), base.Tensors()) {
		t.Fatalf("output tensors differ from the base's (dtypes must stay Q8_0)")
	}
	for _, m := range rep.Merged {
		if m.DType != "Q8_0" {
			t.Errorf("%s written as %s, want Q8_0", m.Name, m.DType)
		}
		g, r := floats(t, got, m.Name), floats(t, ref, m.Name)
		// Q8_0 error: each block of 32 is rounded to steps of d = amax/127,
		// so values move by at most d/2; allow one step for the F16
		// rounding of the reference.
		for b := 0; b < len(r); b += 32 {
			amax := 0.0
			for _, v := range r[b : b+32] {
				amax = math.Max(amax, math.Abs(float64(v)))
			}
			if d := maxAbsDiff(g[b:b+32], r[b:b+32]); d > amax/127 {
				t.Fatalf("%s block %d: max |ours - llama.cpp| = %g, want <= Q8_0 step %g", m.Name, b/32, d, amax/127)
			}
		}
	}
}

// unmergeTol: W + ΔW - ΔW in float32 returns W up to one rounding of
// values near |W + ΔW| <= 0.5.
const unmergeTol = 6e-8

func TestMergeThenUnmergeReturnsBase(t *testing.T) {
	dir := sharedDir(t, "fixtures")
	basePath := filepath.Join(dir, "llama-f32.gguf")
	adapter := filepath.Join(dir, "llama-lora-r8.gguf")
	tmp := t.TempDir()
	merged, back := filepath.Join(tmp, "m.gguf"), filepath.Join(tmp, "b.gguf")
	if _, err := Merge(context.Background(), basePath, []Input{{Path: adapter, Scale: 1}}, merged, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(context.Background(), merged, []Input{{Path: adapter, Scale: -1}}, back, Options{}); err != nil {
		t.Fatal(err)
	}
	base, got := openSource(t, basePath), openSource(t, back)
	for _, ti := range base.Tensors() {
		if d := maxAbsDiff(floats(t, got, ti.Name), floats(t, base, ti.Name)); d > unmergeTol {
			t.Errorf("unmerge: %s max |W'' - W| = %g, want <= %g", ti.Name, d, unmergeTol)
		}
	}
}
