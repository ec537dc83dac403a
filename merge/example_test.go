package merge_test

import (
	"fmt"

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
