package imatrix_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/imatrix"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/tokenizer"
)

// sumsRelTol bounds the relative difference of lorakit's in_sum2 from
// llama-imatrix's. With llama.cpp's F16 flash attention emulated
// (model.Options.LlamaAttention) the worst measured is 2.1e-5 (without it,
// 8.7e-4): the dot products are summed in another order than ggml's SIMD
// lanes, which flips a few F16 roundings. The issue asks for 1e-3.
const sumsRelTol = 2e-4

// computeFixture runs Compute on the fixture model and calibration text
// with llama-imatrix's arguments (-c 64 --chunks 12, default batches).
func computeFixture(t *testing.T, dir string) *imatrix.Matrix {
	t.Helper()
	src, vocab, err := convert.OpenModel(filepath.Join(dir, "qdev-llama-f32.gguf"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m, err := model.Load(src, model.Options{KeepQuantized: true, LlamaAttention: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(vocab)
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(dir, "calib-dev.txt"))
	if err != nil {
		t.Fatal(err)
	}
	col := imatrix.NewCollector()
	m.SetInputObserver(func(in model.Input) {
		if in.Experts > 0 {
			col.ObserveExpert(in.Weight, in.Expert, in.Experts, in.X, in.Rows, in.Cols)
		} else {
			col.Observe(in.Weight, in.X, in.Rows, in.Cols)
		}
	})
	const ctx = 64
	targets := make([]int, ctx)
	for i := range targets {
		targets[i] = -1
	}
	opt := imatrix.Options{Ctx: ctx, Chunks: 12, BOS: vocab.BOS, Datasets: []string{"calib-dev.txt"}}
	got, err := imatrix.Compute(context.Background(), tok.Encode(strings.TrimSuffix(string(text), "\n")), opt, col, func(chunk []int) error {
		_, err := m.Loss(model.Batch{B: 1, T: len(chunk), Tokens: chunk, Targets: targets})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestComputeMatchesLlamaImatrix: on the fixture model and text, Compute
// finds the same weights, counts, chunk count and metadata as
// llama-imatrix, and sums within sumsRelTol.
func TestComputeMatchesLlamaImatrix(t *testing.T) {
	dir := testshared.Path(t, "fixtures/imatrix")
	want, err := imatrix.Read(filepath.Join(dir, "qdev-llama.imatrix.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	got := computeFixture(t, dir)
	checkSame(t, got, want)

	// Written and read back, it is the same matrix.
	out := filepath.Join(t.TempDir(), "im.gguf")
	if err := imatrix.Write(out, got, false); err != nil {
		t.Fatal(err)
	}
	back, err := imatrix.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, back, want)
}

// checkSame compares got with the reference want.
func checkSame(t *testing.T, got, want *imatrix.Matrix) {
	t.Helper()
	if got.Chunks != want.Chunks || got.ChunkSize != want.ChunkSize || strings.Join(got.Datasets, ",") != strings.Join(want.Datasets, ",") {
		t.Errorf("chunks %d of %d, datasets %q; want %d of %d, %q", got.Chunks, got.ChunkSize, got.Datasets, want.Chunks, want.ChunkSize, want.Datasets)
	}
	if len(got.Entries) != len(want.Entries) {
		t.Fatalf("%d entries, want %d", len(got.Entries), len(want.Entries))
	}
	var worst float64
	for i, w := range want.Entries {
		g := got.Entries[i]
		if g.Name != w.Name || g.Cols != w.Cols || len(g.Counts) != len(w.Counts) {
			t.Errorf("entry %d = %s (%d cols, %d mats), want %s (%d, %d)", i, g.Name, g.Cols, g.Mats(), w.Name, w.Cols, w.Mats())
			continue
		}
		for k := range w.Counts {
			if g.Counts[k] != w.Counts[k] {
				t.Errorf("%s: count %d = %v, want %v", w.Name, k, g.Counts[k], w.Counts[k])
			}
		}
		for j := range w.Sums {
			rel := math.Abs(float64(g.Sums[j]-w.Sums[j])) / math.Abs(float64(w.Sums[j]))
			worst = max(worst, rel)
			if !(rel <= sumsRelTol) {
				t.Errorf("%s: in_sum2[%d] = %v, want %v (rel %.2g)", w.Name, j, g.Sums[j], w.Sums[j], rel)
				break
			}
		}
	}
	t.Logf("largest relative difference of in_sum2: %.3g", worst)
}
