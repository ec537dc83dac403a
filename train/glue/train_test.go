package glue

import (
	"testing"
	"time"

	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/model/encoder"
)

// tinyStd: weights of the never pre-trained tiny encoder pass signal through
// its frozen projections (1/√32 ≈ 0.18).
const tinyStd = 0.18

// tinyEncoder is a random 2-layer encoder (hidden 32) with a RoBERTa head
// of two labels; ids 0-3 are [PAD], [UNK], [CLS], [SEP].
func tinyEncoder(t testing.TB, vocab int) *encoder.Model {
	m, err := encoder.NewRandom(encoder.Config{Layers: 2, Hidden: 32, Heads: 2, FF: 64, Vocab: vocab, Positions: 64, Types: 2,
		Eps: 1e-12, PadID: 0, Head: encoder.RoBERTaHead, Labels: []string{"0", "1"}}, tinyStd, 3)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTrainSST2: LoRA (r 8 on query and value) plus the head, trained
// briefly on SST-2 sentences over a tiny random encoder with a word
// vocabulary, lowers the dev loss and beats the dev majority baseline.
func TestTrainSST2(t *testing.T) {
	dir := testshared.Path(t, "data/glue")
	task, _ := LookupTask("glue/sst2")
	trainRows, err := task.ReadFile(dir + "/SST-2/train.tsv")
	if err != nil {
		t.Fatal(err)
	}
	devRows, err := task.ReadFile(dir + "/SST-2/dev.tsv")
	if err != nil {
		t.Fatal(err)
	}
	trainRows = trainRows[:3000]
	const vocab = 512
	wv, err := NewWordVocab(trainRows, vocab, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := Framing{CLS: 2, SEP: 3, MaxLen: 64}
	train, dev := task.Examples(trainRows, wv, f), task.Examples(devRows, wv, f)
	m := tinyEncoder(t, vocab)
	before, err := Evaluate(m, task, dev)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultTrainConfig()
	cfg.Epochs, cfg.LR = 2, 5e-3
	start := time.Now()
	if err := Train(m, task, train, cfg, nil); err != nil {
		t.Fatal(err)
	}
	after, err := Evaluate(m, task, dev)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dev loss %.4f -> %.4f, accuracy %.4f -> %.4f (majority %.4f), %v", before.Loss, after.Loss,
		before.Metrics["accuracy"], after.Metrics["accuracy"], after.Majority, time.Since(start))
	if after.Loss >= before.Loss {
		t.Errorf("dev loss %.4f did not fall below %.4f", after.Loss, before.Loss)
	}
	if after.Metrics["accuracy"] <= after.Majority {
		t.Errorf("dev accuracy %.4f not above the majority baseline %.4f", after.Metrics["accuracy"], after.Majority)
	}
}
