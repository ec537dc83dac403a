package train

import (
	"testing"

	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/embedded"
	"github.com/lorakit/lorakit/tokenizer"
	"github.com/lorakit/lorakit/train/data"
)

// loadStories loads the embedded stories260K and its tokenizer.
func loadStories(t testing.TB, opts model.Options) (*model.Model, *tokenizer.Tokenizer) {
	t.Helper()
	src, err := embedded.Source()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	v, err := embedded.Vocab()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	return m, tok
}

// e2eExamples builds the first n training and test examples of the
// embedded E2E slice for tok.
func e2eExamples(t testing.TB, tok *tokenizer.Tokenizer, seq, nTrain, nTest int) (tr, te []data.Example) {
	t.Helper()
	trp, tep, err := EmbeddedE2E()
	if err != nil {
		t.Fatal(err)
	}
	b := BuilderFor(tok, seq)
	tr, _, err = b.Build(trp[:min(nTrain, len(trp))], "train")
	if err != nil {
		t.Fatal(err)
	}
	te, _, err = b.Build(tep[:min(nTest, len(tep))], "test")
	if err != nil {
		t.Fatal(err)
	}
	return tr, te
}

// tinyConfig is a short LoRA run on stories260K.
func tinyConfig() Config {
	c := DefaultConfig()
	c.LR, c.Warmup, c.Batch, c.Steps, c.Seq = 1e-2, 2, 4, 12, 256
	return c
}
