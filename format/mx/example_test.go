package mx_test

import (
	"fmt"
	"log"

	"github.com/lorakit/lorakit/format/mx"
)

// One MXFP4 block as Hugging Face checkpoints store it: scale code 128
// (2^1), byte 0 holding elements 0 (code 2: 1.0) and 1 (code 0xB: -1.5).
func ExampleDecodeHF() {
	blocks := make([]byte, 16)
	blocks[0] = 0xB2
	out := make([]float32, 32)
	if err := mx.DecodeHF(out, blocks, []byte{128}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(out[:3])
	// Output: [2 -3 0]
}
