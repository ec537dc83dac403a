package glue

import (
	"math/rand/v2"
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

// TestTrainModes: LoRA (q, v + head) and full fine-tuning of every linear
// both learn a task a bag of words decides (label 1 when token 10 occurs)
// to well above chance on their training rows.
func TestTrainModes(t *testing.T) {
	task, _ := LookupTask("glue/sst2")
	rng := rand.New(rand.NewPCG(1, 1))
	var train []encoder.Example
	for range 400 {
		ids, lab := []int{2}, 0
		for range 3 + rng.IntN(6) {
			id := 4 + rng.IntN(40)
			if rng.IntN(8) == 0 {
				id = 10
			}
			lab = max(lab, b2i(id == 10))
			ids = append(ids, id)
		}
		train = append(train, encoder.Example{Seq: encoder.Sequence{IDs: append(ids, 3)}, Label: lab})
	}
	for _, full := range []bool{false, true} {
		m := tinyEncoder(t, 64)
		cfg := DefaultTrainConfig()
		cfg.Epochs, cfg.LR, cfg.Full = 3, 3e-3, full
		if err := Train(m, task, train, cfg, nil); err != nil {
			t.Fatal(err)
		}
		ev, err := Evaluate(m, task, train)
		if err != nil {
			t.Fatal(err)
		}
		if acc := ev.Metrics["accuracy"]; acc < 0.75 { // measured 0.805 (LoRA), above 0.85 (full); majority 0.59
			t.Errorf("full %v: training accuracy %.3f (majority %.3f), want ≥ 0.75", full, acc, ev.Majority)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
