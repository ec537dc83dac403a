package train_test

import (
	"context"
	"fmt"

	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/embedded"
	"github.com/lorakit/lorakit/tokenizer"
	"github.com/lorakit/lorakit/train"
)

// Train a rank-4 LoRA adapter on q and v of the embedded stories260K with
// a few steps over the embedded E2E slice.
func Example() {
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
