package lm_test

import (
	"fmt"

	"github.com/lorakit/lorakit/lm"
)

// ExampleLoad loads the embedded stories260K with its tokenizer and
// predicts the token after "Once upon a time" greedily.
func ExampleLoad() {
	l, err := lm.Load("", lm.Options{Model: lm.RunOptions})
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, _ := l.NeedTokenizer()
	ids := tok.Encode("Once upon a time")
	logits, err := l.Model.Logits(ids)
	if err != nil {
		fmt.Println(err)
		return
	}
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	fmt.Printf("%s, %d tokens: %q\n", l.Name, l.Model.Config.Vocab, tok.Decode([]int{best}))
	// Output: stories260K (embedded), 512 tokens: ","
}
