package release_test

import (
	"context"
	"fmt"

	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/release"
)

// ExampleMake releases a base with an adapter merged, as F16 and Q8_0
// (paths of ../shared/fixtures; compiled, not run).
func ExampleMake() {
	q8, _ := quantize.ParsePreset("Q8_0")
	man, reps, err := release.Make(context.Background(), "out", release.Options{
		Base:     "llama-f32.gguf",
		Adapters: []merge.Input{{Path: "llama-lora-r8.gguf", Scale: 1}},
		Quants:   []quantize.Preset{q8},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(man.Models, len(reps))
}
