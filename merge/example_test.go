package merge_test

import (
	"fmt"
	"log"

	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
)

func ExampleParseInput() {
	in, _ := merge.ParseInput("adapters/style:-1")
	fmt.Println(in.Path, in.Scale)
	in, _ = merge.ParseInput("adapters/chat")
	fmt.Println(in.Path, in.Scale)
	// Output:
	// adapters/style -1
	// adapters/chat 1
}

// Combine two rank-1 adapters of one 2x2 module with "cat": the ranks are
// stacked, so the result (rank 2, scale 1) is exactly the weighted sum of
// the updates. Here ΔW₁ = 1·[[1 0] [0 0]], ΔW₂ = (2/1)·[[0 0] [0 2]], and
// 1·ΔW₁ + 0.5·ΔW₂ = [[1 0] [0 2]].
func ExampleCombine() {
	adapter := func(alpha float64, a, b []float32) *lora.Adapter {
		return &lora.Adapter{Config: lora.NewConfig(1, alpha), Modules: []*lora.Module{{
			Name: "q_proj", Rank: 1, In: 2, Out: 2, Alpha: alpha, A: a, B: b}}}
	}
	inputs := []merge.Input{
		{Path: "one", Scale: 1, Adapter: adapter(1, []float32{1, 0}, []float32{1, 0})},
		{Path: "two", Scale: 0.5, Adapter: adapter(2, []float32{0, 1}, []float32{0, 2})},
	}
	c, err := merge.Combine(inputs, merge.CombineOptions{Method: merge.MethodCat})
	if err != nil {
		log.Fatal(err)
	}
	m := c.Modules[0]
	fmt.Println(m.Name, "rank", m.Rank, "scale", m.Scale(), "delta", m.Delta())
	// Output: q_proj rank 2 scale 1 delta [1 0 0 2]
}
