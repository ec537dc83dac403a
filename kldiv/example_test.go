package kldiv_test

import (
	"fmt"
	"log"
	"math"

	"github.com/lorakit/lorakit/kldiv"
)

// Two positions of a 2-token vocabulary: the reference gives the second
// token 2/3, the model 1/2 and then the same 2/3.
func ExampleCompare() {
	var acc kldiv.Accumulator
	ref := []float32{0, float32(math.Ln2)}
	for _, got := range [][]float32{{0, 0}, {0, float32(math.Ln2)}} {
		tok, err := kldiv.Compare(ref, got, 1)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("KL %.6f same top %v\n", tok.KL, tok.SameTop)
		acc.Add(tok)
	}
	r := acc.Result()
	fmt.Printf("mean KL %.6f, top-1 agreement %.2f, PPL %.4f vs %.4f\n", r.MeanKL, r.Top1, r.PPL, r.RefPPL)
	// Output:
	// KL 0.056633 same top false
	// KL 0.000000 same top true
	// mean KL 0.028317, top-1 agreement 0.50, PPL 1.7321 vs 1.5000
}
