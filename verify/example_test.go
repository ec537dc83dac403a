package verify_test

import (
	"context"
	"fmt"
	"os"

	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/verify"
)

// ExampleVerify proves llama-export-lora's merge of an adapter into a base
// (paths of ../shared/fixtures; compiled, not run).
func ExampleVerify() {
	rep, err := verify.Verify(context.Background(), "llama-merged-f32.gguf", verify.Options{
		Base:     "llama-f32.gguf",
		Adapters: []merge.Input{{Path: "llama-lora-r8.gguf", Scale: 1}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	verify.WriteText(os.Stdout, rep)
	fmt.Println(rep.OK, rep.Offending)
}
