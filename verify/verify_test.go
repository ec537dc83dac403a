package verify

import (
	"context"
	"encoding/binary"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/merge"
)

// run verifies release against base and adapters ("path:scale" relative to
// dir), failing the test on an error of Verify itself.
func run(t *testing.T, release, base string, adapters ...merge.Input) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), release, Options{Base: base, Adapters: adapters})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// statuses counts a report's tensor statuses.
func statuses(rep *Report) map[Status]int {
	n := map[Status]int{}
	for _, t := range rep.Tensors {
		n[t.Status]++
	}
	return n
}

// TestVerifyLlamaExportLora: every merge llama-export-lora made in the
// fixtures (the MoE ones with LoRA on stacked experts included) verifies
// from its base and adapter; merged tensors are
// bit-exact or within F32 rounding, the others bit-exact, and the
// tokenizer is carried.
func TestVerifyLlamaExportLora(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	cases := [][3]string{
		{"gpt2-f32", "gpt2-lora-r4", "gpt2-merged-f32"},
		{"llama-f32", "llama-lora-r8", "llama-merged-f32"},
	}
	arch, _ := filepath.Glob(filepath.Join(fx, "arch", "*-merged-f32.gguf"))
	if len(arch) == 0 {
		t.Fatal("no fixtures/arch/*-merged-f32.gguf")
	}
	for _, m := range arch {
		stem := strings.TrimSuffix(filepath.Base(m), "-merged-f32.gguf")
		c := [3]string{"arch/" + stem + "-f32", "arch/" + stem + "-lora-r4", "arch/" + stem + "-merged-f32"}
		cases = append(cases, c)
	}
	for _, c := range cases {
		t.Run(c[2], func(t *testing.T) {
			g := func(s string) string { return filepath.Join(fx, s+".gguf") }
			rep := run(t, g(c[2]), g(c[0]), merge.Input{Path: g(c[1]), Scale: 1})
			if !rep.OK {
				t.Fatalf("not verified: offending %v", rep.Offending)
			}
			merged := 0
			for _, r := range rep.Tensors {
				if len(r.Merged) > 0 {
					merged++
				} else if r.Status != BitExact {
					t.Errorf("untouched tensor %s: %s, want bit-exact", r.Name, r.Status)
				}
			}
			if merged == 0 {
				t.Error("no tensor was merged")
			}
			if len(rep.Metadata) < 2 {
				t.Errorf("only %d metadata items checked", len(rep.Metadata))
			}
		})
	}
}

// TestVerifyQ8_0BaseMergedAsF16: llama-export-lora merges a Q8_0 base at
// scale 0.5 into F16 tensors; they verify within F16 rounding.
func TestVerifyQ8_0BaseMergedAsF16(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	rep := run(t, filepath.Join(fx, "gpt2-q8_0-merged-s0.5.gguf"), filepath.Join(fx, "gpt2-q8_0.gguf"),
		merge.Input{Path: filepath.Join(fx, "gpt2-lora-r4.gguf"), Scale: 0.5})
	if !rep.OK {
		t.Fatalf("not verified: offending %v", rep.Offending)
	}
	for _, r := range rep.Tensors {
		if len(r.Merged) > 0 && r.DType != "F16" {
			t.Errorf("merged tensor %s is %s, want F16", r.Name, r.DType)
		}
	}
	if n := statuses(rep)[Rounding]; n == 0 {
		t.Error("no tensor within F16 rounding: the fixture is known to differ in a few F16 roundings")
	}
}

// TestVerifyQuantizedBitExact: quantized releases are requantized and
// compared byte for byte: lorakit's Q8_0 of llama-export-lora's merges, and
// llama-quantize's own files of the unmerged F32 models.
func TestVerifyQuantizedBitExact(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	dir := t.TempDir()
	g := func(s string) string { return filepath.Join(fx, s+".gguf") }
	type tc struct {
		name, release, base string
		adapters            []merge.Input
	}
	var cases []tc
	for _, c := range [][3]string{{"llama-f32", "llama-lora-r8", "llama-merged-f32"}, {"gpt2-f32", "gpt2-lora-r4", "gpt2-merged-f32"}} {
		out := filepath.Join(dir, c[2]+"-q8_0.gguf")
		if _, err := quantize.File(context.Background(), g(c[2]), out, quantize.Options{Preset: mustPreset(t, "Q8_0")}); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tc{c[2] + "-q8_0", out, g(c[0]), []merge.Input{{Path: g(c[1]), Scale: 1}}})
	}
	for _, q := range []string{"llama-q8_0", "llama-q4_k_m", "llama-q2_k", "gpt2-q8_0", "arch/qwen2-q8_0"} {
		base := strings.SplitN(q, "-q", 2)[0] + "-f32"
		cases = append(cases, tc{q, g(q), g(base), nil})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := run(t, c.release, c.base, c.adapters...)
			n := statuses(rep)
			if !rep.OK || n[BitExact] != len(rep.Tensors) {
				t.Errorf("statuses %v, offending %v; want all %d bit-exact", n, rep.Offending, len(rep.Tensors))
			}
		})
	}
}

func mustPreset(t *testing.T, name string) quantize.Preset {
	t.Helper()
	p, err := quantize.ParsePreset(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVerifyFailures: a changed element, a wrong scale, a missing update,
// a dropped tensor and a changed tokenizer are each named, and nothing
// else is.
func TestVerifyFailures(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	dir := t.TempDir()
	g := func(s string) string { return filepath.Join(fx, s+".gguf") }
	adapter := []merge.Input{{Path: g("gpt2-lora-r4"), Scale: 1}}
	const target = "blk.1.attn_qkv.weight" // merged
	bumped := filepath.Join(dir, "bumped.gguf")
	rewrite(t, g("gpt2-merged-f32"), bumped, nil, func(name string, data []byte) {
		if name == target {
			v := math.Float32frombits(binary.LittleEndian.Uint32(data[400:]))
			binary.LittleEndian.PutUint32(data[400:], math.Float32bits(v+0.01))
		}
	})
	dropped := filepath.Join(dir, "dropped.gguf")
	rewrite(t, g("gpt2-merged-f32"), dropped, map[string]bool{"output_norm.bias": true}, nil)
	retok := filepath.Join(dir, "retok.gguf")
	rewriteMeta(t, g("gpt2-merged-f32"), retok, "tokenizer.ggml.eos_token_id", uint32(1))

	mergedNames := []string{}
	base := run(t, g("gpt2-merged-f32"), g("gpt2-f32"), adapter...)
	for _, r := range base.Tensors {
		if len(r.Merged) > 0 {
			mergedNames = append(mergedNames, r.Name)
		}
	}
	sort.Strings(mergedNames)
	tests := []struct {
		name, release string
		adapters      []merge.Input
		offending     []string
		status        Status
	}{
		{"one element +0.01", bumped, adapter, []string{target}, Different},
		{"wrong scale", g("gpt2-merged-f32"), []merge.Input{{Path: g("gpt2-lora-r4"), Scale: 0.5}}, mergedNames, Different},
		{"adapter not merged", g("gpt2-f32"), adapter, mergedNames, NotMerged},
		{"tensor dropped", dropped, adapter, []string{"output_norm.bias"}, Missing},
		{"eos changed", retok, adapter, []string{"metadata tokenizer.ggml.eos_token_id"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, tc.release, g("gpt2-f32"), tc.adapters...)
			got := append([]string(nil), rep.Offending...)
			sort.Strings(got)
			if rep.OK || !reflect.DeepEqual(got, tc.offending) {
				t.Fatalf("OK %v, offending %v; want %v", rep.OK, got, tc.offending)
			}
			for _, r := range rep.Tensors {
				if !r.Status.Explained() && tc.status != "" && r.Status != tc.status {
					t.Errorf("%s: status %s, want %s", r.Name, r.Status, tc.status)
				}
			}
		})
	}
}

// TestVerifySplitRelease: a split set (llama-gguf-split's) verifies as
// the model it holds.
func TestVerifySplitRelease(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	rep := run(t, filepath.Join(fx, "split", "llama-f32-00001-of-00004.gguf"), filepath.Join(fx, "llama-f32.gguf"))
	if n := statuses(rep); !rep.OK || n[BitExact] != 21 {
		t.Errorf("statuses %v, offending %v; want 21 bit-exact", n, rep.Offending)
	}
}

// rewrite copies a GGUF file, leaving out the tensors in drop and letting
// edit change each tensor's bytes (a private copy).
func rewrite(t *testing.T, in, out string, drop map[string]bool, edit func(name string, data []byte)) {
	t.Helper()
	src, err := format.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	copyModel(t, src, out, src.Metadata(), drop, edit)
}

// rewriteMeta copies a GGUF file with one metadata value replaced.
func rewriteMeta(t *testing.T, in, out, key string, v any) {
	t.Helper()
	src, err := format.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	md := src.Metadata().Clone()
	md.Set(key, v)
	copyModel(t, src, out, md, nil, nil)
}

func copyModel(t *testing.T, src format.Source, out string, md format.Metadata, drop map[string]bool, edit func(string, []byte)) {
	t.Helper()
	var infos []format.TensorInfo
	for _, ti := range src.Tensors() {
		if !drop[ti.Name] {
			infos = append(infos, ti)
		}
	}
	sink, err := format.Create("gguf", out, infos, md, format.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range infos {
		data, err := src.TensorData(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		data = append([]byte(nil), data...)
		if edit != nil {
			edit(ti.Name, data)
		}
		if err := sink.WriteTensor(ti.Name, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyAcrossForms: llama.cpp's convert_hf_to_gguf.py output verifies
// against its Hugging Face checkpoint (the base seen with llama.cpp names),
// and lorakit's Hugging Face export of a GGUF against the GGUF.
func TestVerifyAcrossForms(t *testing.T) {
	hf := testshared.Path(t, "fixtures/hf-convert")
	for _, stem := range []string{"qwen2", "mistral"} {
		rep := run(t, filepath.Join(hf, stem+"-f32.gguf"), filepath.Join(hf, "hf", stem))
		if n := statuses(rep); !rep.OK || n[BitExact] != len(rep.Tensors) {
			t.Errorf("%s: statuses %v, offending %v; want all bit-exact", stem, n, rep.Offending)
		}
	}
	fx := testshared.Path(t, "fixtures")
	out := filepath.Join(t.TempDir(), "hf")
	if err := convert.Model(context.Background(), filepath.Join(fx, "gpt2-merged-f32.gguf"), out, convert.ModelOptions{To: "hf"}); err != nil {
		t.Fatal(err)
	}
	rep := run(t, out, filepath.Join(fx, "gpt2-f32.gguf"), merge.Input{Path: filepath.Join(fx, "gpt2-lora-r4.gguf"), Scale: 1})
	if !rep.OK {
		t.Errorf("Hugging Face export of gpt2-merged-f32: offending %v", rep.Offending)
	}
}

// logitsTol: the merged F32 model and the base running the adapter at run
// time compute W·x and W·x + s·B·(A·x) in float32, in other orders;
// measured on llama-merged-f32: 3.7e-7.
const logitsTol = 1e-5

// TestVerifyLogits: with Logits set, the merged release's next-token
// logits match the base with the adapter at run time.
func TestVerifyLogits(t *testing.T) {
	fx := testshared.Path(t, "fixtures")
	g := func(s string) string { return filepath.Join(fx, s+".gguf") }
	rep, err := Verify(context.Background(), g("llama-merged-f32"), Options{Base: g("llama-f32"),
		Adapters: []merge.Input{{Path: g("llama-lora-r8"), Scale: 1}}, Logits: 3})
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Logits
	if l == nil || len(l.Prompts) != 3 || l.Top1 != 3 || l.MaxAbs > logitsTol {
		t.Errorf("logits report %+v; want 3 prompts, top-1 agreeing on all, max |diff| <= %g", l, logitsTol)
	}
}
