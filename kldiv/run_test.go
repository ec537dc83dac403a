package kldiv_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/kldiv"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/tokenizer"
)

// load opens a fixture model, quantized weights kept quantized, and its
// tokenizer.
func load(t *testing.T, path string) (*model.Model, *tokenizer.Tokenizer) {
	t.Helper()
	src, vocab, err := convert.OpenModel(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m, err := model.Load(src, model.Options{KeepQuantized: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(vocab)
	if err != nil {
		t.Fatal(err)
	}
	return m, tok
}

// TestRunOrdersQuantizations: the F32 fixture Llama against itself gives
// KL 0 and full agreement; against llama-quantize's Q8_0 and Q4_K_M of it,
// small positive divergences, Q8_0 closer than Q4_K_M.
func TestRunOrdersQuantizations(t *testing.T) {
	dir := testshared.Path(t, "fixtures")
	ref, tok := load(t, filepath.Join(dir, "llama-f32.gguf"))
	text, err := os.ReadFile(filepath.Join(dir, "imatrix", "calib-dev.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := tok.Encode(strings.TrimSuffix(string(text), "\n"))
	opt := kldiv.Options{Ctx: 64, Chunks: 4, BOS: tok.Vocab().BOS}
	run := func(m *model.Model) kldiv.Result {
		r, err := kldiv.Run(context.Background(), ref, m, tokens, opt)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	self := run(ref)
	if self.Tokens != 4*(64-1-32) || self.MeanKL != 0 || self.MaxKL != 0 || self.Top1 != 1 || self.DeltaPPL != 0 {
		t.Errorf("model against itself = %+v, want 124 tokens, KL 0, agreement 1, ΔPPL 0", self)
	}
	q8, _ := load(t, filepath.Join(dir, "llama-q8_0.gguf"))
	q4, _ := load(t, filepath.Join(dir, "llama-q4_k_m.gguf"))
	r8, r4 := run(q8), run(q4)
	t.Logf("Q8_0:   mean KL %.3g median %.3g p99 %.3g top1 %.4f ΔPPL %.4g", r8.MeanKL, r8.MedianKL, r8.P99KL, r8.Top1, r8.DeltaPPL)
	t.Logf("Q4_K_M: mean KL %.3g median %.3g p99 %.3g top1 %.4f ΔPPL %.4g", r4.MeanKL, r4.MedianKL, r4.P99KL, r4.Top1, r4.DeltaPPL)
	if !(0 < r8.MeanKL && r8.MeanKL < r4.MeanKL && r4.MeanKL < 0.1) {
		t.Errorf("mean KL: Q8_0 %g, Q4_K_M %g; want 0 < Q8_0 < Q4_K_M < 0.1", r8.MeanKL, r4.MeanKL)
	}
	if !(r8.P99KL < r4.P99KL && r8.Top1 >= r4.Top1) {
		t.Errorf("p99 KL %g vs %g, top-1 %g vs %g: want Q8_0 closer than Q4_K_M", r8.P99KL, r4.P99KL, r8.Top1, r4.Top1)
	}
}
