package encoder_test

import (
	"fmt"

	"github.com/lorakit/lorakit/model/encoder"
)

// A random two-layer RoBERTa-style classifier: logits of one sequence, and
// one training step's loss (its gradients land in Params).
func Example() {
	m, err := encoder.NewRandom(encoder.Config{Layers: 2, Hidden: 16, Heads: 2, FF: 32, Vocab: 50, Positions: 32, Types: 1,
		Eps: 1e-5, PadID: 1, Head: encoder.RoBERTaHead, Labels: []string{"neg", "pos"}}, 0.02, 1)
	if err != nil {
		panic(err)
	}
	out, err := m.Forward(encoder.Sequence{IDs: []int{0, 7, 8, 9, 2}})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(out.Hidden)/m.Config.Hidden, "tokens,", len(out.Logits), "logits")
	if err := m.TrainHead(); err != nil {
		panic(err)
	}
	loss, _, err := m.Loss(encoder.Example{Seq: encoder.Sequence{IDs: []int{0, 7, 2}}, Label: 1}, true, 1)
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.2f (about ln 2 for a random head), %d trainable tensors\n", loss, len(m.Params()))
	// Output:
	// 5 tokens, 2 logits
	// loss 0.70 (about ln 2 for a random head), 4 trainable tensors
}
