package lora_test

import (
	"fmt"
	"log"

	"github.com/lorakit/lorakit/lora"
)

// Stack one module per expert (expert 1 has none) into llama.cpp's layout
// of a 3-D adapter: expert e's update is slice e of Delta.
func ExampleStackExperts() {
	e0 := &lora.Module{Name: "experts.0.w3", Rank: 1, In: 2, Out: 1, Alpha: 1, A: []float32{1, 2}, B: []float32{3}}
	e2 := &lora.Module{Name: "experts.2.w3", Rank: 1, In: 2, Out: 1, Alpha: 1, A: []float32{1, 1}, B: []float32{-1}}
	s, err := lora.StackExperts("blk.0.ffn_up_exps", []*lora.Module{e0, nil, e2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Experts, s.Delta(), s.Expert(2).Delta())
	// Output: 3 [3 6 0 0 -1 -1] [-1 -1]
}
