package format_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf"        // registers "gguf"
	_ "github.com/lorakit/lorakit/format/safetensors" // registers "safetensors"
	"github.com/lorakit/lorakit/internal/examplefile"
)

// writeCheckpoint writes one tensor "w" of the given dtype holding vals
// into a new file of the named format.
func writeCheckpoint(formatName, path string, dt format.DType, vals []float32) {
	if err := examplefile.WriteOneTensor(formatName, path, dt, vals); err != nil {
		log.Fatal(err)
	}
}

// Decode little-endian F16 bytes to float32.
func ExampleToFloat32() {
	f16 := []byte{0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38} // 1, -2, 0.5
	dst := make([]float32, 3)
	if err := format.ToFloat32(dst, f16, format.F16); err != nil {
		log.Fatal(err)
	}
	fmt.Println(dst)
	// Output: [1 -2 0.5]
}

// Open detects the format from the content, whatever the file is called,
// and lists its tensors.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "format-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.bin") // no telling extension
	writeCheckpoint("gguf", path, format.F32, []float32{1, 2, 3, 4})

	name, err := format.Detect(path)
	if err != nil {
		log.Fatal(err)
	}
	src, err := format.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	fmt.Println(name, src.Format())
	for _, t := range src.Tensors() {
		fmt.Println(t.Name, t.DType, t.Shape)
	}
	// Output:
	// gguf gguf
	// w F32 [2 2]
}
