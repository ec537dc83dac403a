package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/imatrix"
)

// TestImatrixThenQuantize: lorakit imatrix on the fixture model writes an
// imatrix with llama-imatrix's entries and counts; quantize --imatrix
// with the reference imatrix reproduces llama-quantize's IQ4_XS file byte
// for byte, and refuses IQ2_XS without one, leaving no output.
func TestImatrixThenQuantize(t *testing.T) {
	dir := sharedPath(t, "fixtures/imatrix")
	tmp := t.TempDir()
	model := filepath.Join(dir, "qdev-llama-f32.gguf")
	im := filepath.Join(tmp, "im.gguf")
	if _, errs, code := lorakit(t, "imatrix", model, "--data", filepath.Join(dir, "calib-dev.txt"), "--ctx", "64", "--chunks", "12", "-o", im); code != 0 {
		t.Fatalf("imatrix exit %d: %s", code, errs)
	}
	out, errs, code := lorakit(t, "inspect", "--json", im)
	if code != 0 {
		t.Fatalf("inspect exit %d: %s", code, errs)
	}
	var rep inspectReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Tensors) != 14 {
		t.Errorf("imatrix has %d tensors, llama-imatrix writes 14", len(rep.Tensors))
	}

	// llama-quantize recorded the imatrix path as given: run from its folder.
	t.Chdir(dir)
	q := filepath.Join(tmp, "q.gguf")
	if _, errs, code := lorakit(t, "quantize", "--imatrix", "qdev-llama.imatrix.gguf", model, q, "iq4_xs"); code != 0 {
		t.Fatalf("quantize exit %d: %s", code, errs)
	}
	got, _ := os.ReadFile(q)
	want, _ := os.ReadFile(filepath.Join(dir, "qdev-llama-imat-iq4_xs.gguf"))
	if !bytes.Equal(got, want) {
		t.Errorf("quantize --imatrix IQ4_XS wrote %d bytes that differ from llama-quantize's %d", len(got), len(want))
	}

	bad := filepath.Join(tmp, "bad.gguf")
	_, errs, code = lorakit(t, "quantize", model, bad, "IQ2_XS")
	if code != 1 || !strings.Contains(errs, "requires an importance matrix") || !strings.Contains(errs, "blk.0.attn_k.weight") {
		t.Errorf("quantize IQ2_XS without imatrix: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("output left after a refused quantization")
	}
}

// TestScoreKL: a model against itself scores KL 0 and full agreement.
func TestScoreKL(t *testing.T) {
	dir := sharedPath(t, "fixtures")
	m := filepath.Join(dir, "llama-f32.gguf")
	out, errs, code := lorakit(t, "score", m, "--text", filepath.Join(dir, "imatrix", "calib-dev.txt"), "--kl-divergence", m, "--ctx", "32", "--chunks", "2", "--json")
	if code != 0 {
		t.Fatalf("score exit %d: %s", code, errs)
	}
	var r struct {
		Tokens int     `json:"tokens"`
		MeanKL float64 `json:"mean_kl"`
		Top1   float64 `json:"top1_agreement"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Tokens != 2*(32-1-16) || r.MeanKL != 0 || r.Top1 != 1 {
		t.Errorf("score --kl-divergence self = %+v, want 30 tokens, KL 0, agreement 1", r)
	}
}

// TestImatrixMoE: on the Mixtral-style fixture, the expert stacks get one
// row of sums and one count per expert, the counts of a stack add up to
// tokens × experts used, and quantize --imatrix uses the entries.
func TestImatrixMoE(t *testing.T) {
	dir := sharedPath(t, "fixtures")
	tmp := t.TempDir()
	model := filepath.Join(dir, "arch", "mixtral-f32.gguf")
	im := filepath.Join(tmp, "mx.gguf")
	if _, errs, code := lorakit(t, "imatrix", model, "--data", filepath.Join(dir, "imatrix", "calib-dev.txt"), "--ctx", "32", "--chunks", "4", "-o", im); code != 0 {
		t.Fatalf("imatrix exit %d: %s", code, errs)
	}
	m, err := imatrix.Read(im)
	if err != nil {
		t.Fatal(err)
	}
	src, err := gguf.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	experts, _ := src.Metadata().Int("llama.expert_count")
	used, _ := src.Metadata().Int("llama.expert_used_count")
	e, ok := m.Entry("blk.0.ffn_up_exps.weight")
	if !ok || int64(e.Mats()) != experts {
		t.Fatalf("ffn_up_exps entry = %+v, want %d experts", e, experts)
	}
	var total float32
	for _, n := range e.Counts {
		total += n
	}
	if want := float32(4 * 32 * used); total != want {
		t.Errorf("expert counts %v add up to %v, want 4 chunks × 32 tokens × %d used = %v", e.Counts, total, used, want)
	}
	out, errs, code := lorakit(t, "quantize", "--imatrix", im, "--dry-run", model, "IQ4_XS")
	if code != 0 || !strings.Contains(out, "ffn_up_exps.weight") || !strings.Contains(out, "imatrix") {
		t.Errorf("quantize --imatrix --dry-run: exit %d, %s\n%s", code, errs, out)
	}
}
