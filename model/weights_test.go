package model

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// tolMergedFixture: our float32 W + s·B·A against llama-export-lora's
// (within 3.1e-8 of float64 per the fixtures README) differ by a few
// float32 roundings of values up to ~1.
const tolMergedFixture = 1e-6

// roundTrip writes src as a GGUF file with convert's streaming writer and
// opens it.
func roundTrip(t *testing.T, src format.Source) format.Source {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.gguf")
	if err := convert.Checkpoint(t.Context(), src, path, convert.Options{Format: "gguf"}); err != nil {
		t.Fatal(err)
	}
	return openSource(t, path)
}

// sameLogits fails unless a and b give bit-identical logits for ids.
func sameLogits(t *testing.T, a, b *Model, ids []int) {
	t.Helper()
	la, err := a.Logits(ids)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.Logits(ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(la) != len(lb) {
		t.Fatalf("Logits: %d values, want %d", len(lb), len(la))
	}
	for i := range la {
		if la[i] != lb[i] {
			t.Fatalf("reloaded Logits(%v)[%d] = %v, want %v", ids, i, lb[i], la[i])
		}
	}
}

// TestWeightsReload: a fully fine-tuned model's Weights, written as GGUF
// and loaded again, computes the trained model's logits bit for bit.
func TestWeightsReload(t *testing.T) {
	for _, tc := range tinyFamilies {
		t.Run(tc.name(), func(t *testing.T) {
			m, err := Load(tinySource(tc), Options{FullFineTune: true})
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 5))
			for i := range m.Params() { // stand-in for training: move every weight
				m.Params()[i] += float32(0.01 * rng.NormFloat64())
			}
			back, err := Load(roundTrip(t, m.Weights()), Options{})
			if err != nil {
				t.Fatal(err)
			}
			sameLogits(t, m, back, []int{1, 2, 3, 4, 5})
			if got, want := len(m.Weights().Tensors()), len(tinySource(tc).Tensors()); got != want {
				t.Errorf("Weights() has %d tensors, want the %d loaded", got, want)
			}
		})
	}
}

// TestWeightsMergedFixture: merging llama.cpp's GPT-2 LoRA fixture and
// exporting the weights gives llama-export-lora's merged tensors; a Q8_0
// base kept quantized exports its stored bytes unchanged.
func TestWeightsMergedFixture(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "fixtures")
	m := loadModel(t, filepath.Join(dir, "gpt2-f32.gguf"), Options{})
	a, err := lora.Open(filepath.Join(dir, "gpt2-lora-r4.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ApplyAdapter(a, 1); err != nil {
		t.Fatal(err)
	}
	m.MergeLoRA()
	got, want := m.Weights(), openSource(t, filepath.Join(dir, "gpt2-merged-f32.gguf"))
	if len(got.Tensors()) != len(want.Tensors()) {
		t.Fatalf("Weights() has %d tensors, llama-export-lora's merge %d", len(got.Tensors()), len(want.Tensors()))
	}
	for _, info := range got.Tensors() { // every tensor of both is F32
		gb, _ := got.TensorData(info.Name)
		wb, err := want.TensorData(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		g, okG := format.Float32s(gb)
		w, okW := format.Float32s(wb)
		if !okG || !okW {
			t.Fatalf("tensor %s: not readable as float32 in place", info.Name)
		}
		if d := maxAbsDiff(g, w); len(g) != len(w) || d > tolMergedFixture {
			t.Errorf("tensor %s: max difference %.3g from llama-export-lora's, want < %g", info.Name, d, tolMergedFixture)
		}
	}

	q := loadModel(t, filepath.Join(dir, "gpt2-q8_0.gguf"), Options{KeepQuantized: true})
	qsrc := openSource(t, filepath.Join(dir, "gpt2-q8_0.gguf"))
	qw := q.Weights()
	for _, info := range qw.Tensors() {
		stored, _ := format.TensorIndex(qsrc.Tensors(), info.Name)
		if info.DType != format.Q8_0 || stored.DType != format.Q8_0 {
			continue
		}
		g, _ := qw.TensorData(info.Name)
		s, _ := qsrc.TensorData(info.Name)
		if !bytes.Equal(g, s) {
			t.Errorf("kept-quantized tensor %s: exported bytes differ from the file's", info.Name)
		}
	}
	back, err := Load(roundTrip(t, qw), Options{KeepQuantized: true})
	if err != nil {
		t.Fatal(err)
	}
	sameLogits(t, q, back, []int{1, 2, 3})
	if _, err := qw.TensorData("no.such.tensor"); !errors.Is(err, format.ErrNotFound) {
		t.Errorf("TensorData(no.such.tensor) = %v, want %v", err, format.ErrNotFound)
	}
}
