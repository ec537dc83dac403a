package train_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/embedded"
	"github.com/lorakit/lorakit/tokenizer"
	"github.com/lorakit/lorakit/train"
)

// New sets up LoRA training: a rank-4 adapter on q and v of the embedded
// stories260K, trained a few steps over the embedded E2E slice.
func ExampleNew() {
	src, _ := embedded.Source()
	m, _ := model.Load(src, model.Options{})
	v, _ := embedded.Vocab()
	tok, _ := tokenizer.New(v)
	pairs, _, _ := train.EmbeddedE2E()
	examples, _, _ := train.BuilderFor(tok, 256).Build(pairs[:32], "e2e")

	cfg := train.DefaultConfig() // the paper's recipe: r=4 on q,v, alpha 32, AdamW 2e-4, ...
	cfg.Steps, cfg.Warmup, cfg.Batch, cfg.LR = 4, 1, 4, 1e-2
	t, err := train.New(m, cfg, examples, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := t.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.Trainable(), "trainable parameters,", t.State().Step, "steps")
	// Output: 4480 trainable parameters, 4 steps
}

// Fully fine-tune the embedded stories260K for two steps and save it as a
// GGUF model with its tokenizer; loaded again, it computes the trained
// logits exactly.
func ExampleWriteModel() {
	src, _ := embedded.Source()
	m, _ := model.Load(src, model.Options{FullFineTune: true})
	v, _ := embedded.Vocab()
	tok, _ := tokenizer.New(v)
	pairs, _, _ := train.EmbeddedE2E()
	examples, _, _ := train.BuilderFor(tok, 256).Build(pairs[:8], "e2e")
	cfg := train.DefaultConfig()
	cfg.Full, cfg.Steps, cfg.Warmup, cfg.Batch, cfg.LR = true, 2, 1, 4, 1e-3
	t, err := train.New(m, cfg, examples, nil)
	if err == nil {
		err = t.Run(context.Background())
	}
	dir, _ := os.MkdirTemp("", "lorakit-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, train.FinalModelGGUF)
	if err == nil {
		err = train.WriteModel(context.Background(), m, v.Metadata(), path)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	saved, _ := format.Open(path)
	defer saved.Close()
	back, _ := model.Load(saved, model.Options{})
	ids := tok.Encode("Once upon a time")
	a, _ := m.Logits(ids)
	b, _ := back.Logits(ids)
	// 5 layers of 9 tensors, token_embd and output_norm (the head is tied)
	fmt.Println(len(saved.Tensors()), "tensors; same logits:", slices.Equal(a, b))
	// Output: 47 tensors; same logits: true
}
