package check_test

import (
	"context"
	"fmt"
	"os"

	"github.com/lorakit/lorakit/check"
	"github.com/lorakit/lorakit/merge"
)

// ExampleCheck checks an adapter against a quantized base before merging
// (paths of ../shared/fixtures; compiled, not run).
func ExampleCheck() {
	rep, err := check.Check(context.Background(), "llama-q8_0.gguf", check.Options{
		Adapters: []merge.Input{{Path: "llama-lora-r8.gguf", Scale: 1}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	check.WriteText(os.Stdout, rep)
}
