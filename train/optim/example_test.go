package optim_test

import (
	"fmt"

	"github.com/lorakit/lorakit/train/optim"
)

// The printed values agree with a float64 transcription of the formulas.
func ExampleAdamW() {
	w := optim.Param{Name: "w", Data: []float32{1, -2}, Grad: make([]float32, 2)}
	opt, _ := optim.NewAdamW([]optim.Param{w}, optim.DefaultAdamW())
	lr := optim.Linear(0.1, 1, 10)
	for k := 0; k < 3; k++ {
		w.Grad[0], w.Grad[1] = 0.5, -0.25 // from the backward pass
		optim.ClipGradNorm([]optim.Param{w}, 1.0)
		opt.Step(lr(k))
	}
	fmt.Printf("%.4f %.4f after %d steps\n", w.Data[0], w.Data[1], opt.Steps())
	// Output: 0.8093 -1.8074 after 3 steps
}
