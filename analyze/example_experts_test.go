package analyze_test

import (
	"fmt"
	"log"

	"github.com/lorakit/lorakit/analyze"
	"github.com/lorakit/lorakit/lora"
)

// Two experts that write the same output direction with opposite signs,
// and one that writes another direction.
func ExampleCompareExpertsOf() {
	m := &lora.Module{Name: "blk.0.ffn_up_exps", Experts: 3, Rank: 1, In: 2, Out: 2, Alpha: 1,
		A: []float32{1, 0, 1, 0, 0, 1},
		B: []float32{1, 0, -1, 0, 0, 1}}
	s, err := analyze.CompareExpertsOf(m)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Ranks, s.Phi[0], s.Cosine[0])
	// Output: [1 1 1] [1 1 0] [1 -1 0]
}
