package lm_test

import (
	"fmt"
	"log"

	"github.com/lorakit/lorakit/lm"
)

// Open the embedded stories260K with its tokenizer and pick the most
// likely next token greedily. A checkpoint path and Options.Adapters
// (merge.Input{Path: "adapter-dir", Scale: 1}) load a model with LoRA
// adapters attached at run time.
func ExampleOpen() {
	l, err := lm.Open("", lm.Options{Model: lm.Run})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := l.NeedTokenizer()
	if err != nil {
		log.Fatal(err)
	}
	ids := tok.Encode("Once upon a time")
	logits, err := l.Model.Logits(ids)
	if err != nil {
		log.Fatal(err)
	}
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	fmt.Printf("%s: %q\n", l.Name, tok.Decode([]int{best}))
	// Output: stories260K (embedded): ","
}
