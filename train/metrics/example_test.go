package metrics_test

import (
	"fmt"

	"github.com/lorakit/lorakit/train/metrics"
)

func ExampleE2E() {
	outputs := []string{"The Eagle is a cheap coffee shop near Burger King ."}
	refs := [][]string{{
		"The Eagle is a cheap coffee shop near Burger King .",
		"Near Burger King is The Eagle , a low priced coffee shop .",
	}}
	s, _ := metrics.E2E(outputs, refs)
	fmt.Printf("BLEU %.4f ROUGE-L %.4f METEOR (exact match only) %.4f\n", s.BLEU, s.ROUGEL, s.METEORExact)
	// Output: BLEU 1.0000 ROUGE-L 1.0000 METEOR (exact match only) 0.9995
}
