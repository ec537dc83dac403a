package quantize

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/imatrix"
)

// imatrixRuns are the llama-quantize runs of fixtures/imatrix/README.md:
// the output stem, the type argument and the options it was given.
var imatrixRuns = []struct {
	stem, preset string
	imat         bool
	opt          func(t *testing.T) Options
}{
	{stem: "qdev-llama-imat-iq1_s", preset: "IQ1_S", imat: true},
	{stem: "qdev-llama-imat-iq1_m", preset: "IQ1_M", imat: true},
	{stem: "qdev-llama-imat-iq2_xxs", preset: "IQ2_XXS", imat: true},
	{stem: "qdev-llama-imat-iq2_xs", preset: "IQ2_XS", imat: true},
	{stem: "qdev-llama-imat-iq2_s", preset: "IQ2_S", imat: true},
	{stem: "qdev-llama-imat-iq2_m", preset: "IQ2_M", imat: true},
	{stem: "qdev-llama-imat-iq3_xxs", preset: "IQ3_XXS", imat: true},
	{stem: "qdev-llama-imat-iq3_xs", preset: "IQ3_XS", imat: true},
	{stem: "qdev-llama-imat-iq3_s", preset: "IQ3_S", imat: true},
	{stem: "qdev-llama-imat-iq3_m", preset: "IQ3_M", imat: true},
	{stem: "qdev-llama-imat-iq4_xs", preset: "IQ4_XS", imat: true},
	{stem: "qdev-llama-imat-iq4_nl", preset: "IQ4_NL", imat: true},
	{stem: "qdev-llama-imat-q4_k_m", preset: "Q4_K_M", imat: true},
	{stem: "qdev-llama-imat-q2_k", preset: "Q2_K", imat: true},
	{stem: "qdev-llama-imat-q3_k_s", preset: "Q3_K_S", imat: true},
	{stem: "qdev-llama-imat-tq1_0", preset: "TQ1_0", imat: true},
	{stem: "qdev-llama-imat-tq2_0", preset: "TQ2_0", imat: true},
	{stem: "qdev-llama-q4_k_m-noimat", preset: "Q4_K_M"},
	{stem: "qdev-llama-ovr-q4_k_m", preset: "Q4_K_M", opt: func(t *testing.T) Options {
		return Options{
			TensorTypes:        []TensorType{mustTensorType(t, "attn_v=q8_0"), mustTensorType(t, "ffn_down=q6_k")},
			OutputTensorType:   format.Q5_K,
			TokenEmbeddingType: format.Q4_K,
		}
	}},
	{stem: "qdev-llama-pure-q4_k_m", preset: "Q4_K_M", opt: func(*testing.T) Options { return Options{Pure: true} }},
	{stem: "qdev-llama-leave-q5_k_s", preset: "Q5_K_S", opt: func(t *testing.T) Options {
		kv, err := ParseOverrideKV("general.name=str:renamed")
		if err != nil {
			t.Fatal(err)
		}
		return Options{LeaveOutputTensor: true, OverrideKV: []format.KV{kv}}
	}},
}

func mustTensorType(t *testing.T, s string) TensorType {
	t.Helper()
	tt, err := ParseTensorType(s)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// imatrixOptions returns the options of one run, with the fixture's
// importance matrix when the run used it (under the name llama-quantize
// was given, which it records).
func imatrixOptions(t *testing.T, dir, preset string, imat bool, opt func(*testing.T) Options) Options {
	t.Helper()
	var o Options
	if opt != nil {
		o = opt(t)
	}
	o.Preset = mustPreset(t, preset)
	if imat {
		m, err := imatrix.Read(filepath.Join(dir, "qdev-llama.imatrix.gguf"))
		if err != nil {
			t.Fatal(err)
		}
		o.Imatrix, o.ImatrixFile = m, "qdev-llama.imatrix.gguf"
	}
	return o
}

// TestImatrixFixturesMatchLlamaQuantize: for every run of
// fixtures/imatrix, the plan's KV list (with values) equals
// llama-quantize's output (gguf_dump.py listing), and the file File writes
// has llama-quantize's tensor order, types, shapes and bytes per tensor
// (llama-gguf-hash listing) and is byte-identical as a whole.
func TestImatrixFixturesMatchLlamaQuantize(t *testing.T) {
	dir := sharedDir(t, "fixtures/imatrix")
	in := filepath.Join(dir, "qdev-llama-f32.gguf")
	for _, run := range imatrixRuns {
		t.Run(run.stem, func(t *testing.T) {
			opt := imatrixOptions(t, dir, run.preset, run.imat, run.opt)
			out := filepath.Join(t.TempDir(), run.stem+".gguf")
			plan, err := File(context.Background(), in, out, opt)
			if err != nil {
				t.Fatalf("File(%s) = %v", run.preset, err)
			}
			kvs, _ := readDump(t, filepath.Join(dir, "dumps", run.stem+".dump.txt"))
			checkKVs(t, plan.Metadata, kvs)
			checkQuantized(t, out, dir, "sha", run.stem)
		})
	}
}
