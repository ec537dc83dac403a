package generate_test

import (
	"context"
	"fmt"

	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/embedded"
	"github.com/lorakit/lorakit/model/generate"
	"github.com/lorakit/lorakit/tokenizer"
)

// Greedy decoding of the embedded stories260K from BOS.
func ExampleGenerate() {
	src, _ := embedded.Source()
	m, err := model.Load(src, model.Options{})
	if err != nil {
		panic(err)
	}
	v, _ := embedded.Vocab()
	tok, _ := tokenizer.New(v)

	res, err := generate.Generate(context.Background(), generate.FromModel(m), []int{v.BOS}, generate.Options{
		MaxNew:  15,
		Context: m.Config.Context,
		Stop:    []int{v.EOS, v.BOS},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Decode(res.Tokens))
	fmt.Println(res.Reason)
	// Output:
	// Once upon a time, there was a little girl named Lily.
	// length
}

// Beam search as the LoRA paper decodes E2E: 10 beams, length penalty 0.9,
// no repeated 4-grams.
func ExampleGenerate_beam() {
	src, _ := embedded.Source()
	m, _ := model.Load(src, model.Options{})
	v, _ := embedded.Vocab()
	tok, _ := tokenizer.New(v)
	prompt := tok.Encode("Once upon a time")
	res, err := generate.Generate(context.Background(), generate.FromModel(m), prompt, generate.Options{
		MaxNew: 20, Context: m.Config.Context, Stop: []int{v.EOS, v.BOS},
		Beams: 10, LengthPenalty: 0.9, NoRepeatNGram: 4,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(res.Tokens) > 0, res.Score <= 0)
	// Output: true true
}
