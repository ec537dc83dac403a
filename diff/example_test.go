package diff_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/diff"
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

// Compare a float32 safetensors checkpoint with its F16 GGUF copy: the
// values survive the cast up to F16 rounding: 1000.3 becomes 1000.5, the
// nearest F16 (spacing 0.5 there), so the largest difference is about 0.2.
func ExampleCompare() {
	dir, err := os.MkdirTemp("", "diff-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	vals := []float32{1, 0.1, -3, 1000.3}
	writeCheckpoint("safetensors", filepath.Join(dir, "a.safetensors"), format.F32, vals)
	writeCheckpoint("gguf", filepath.Join(dir, "b.gguf"), format.F16, vals)

	a, err := format.Open(filepath.Join(dir, "a.safetensors"))
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	b, err := format.Open(filepath.Join(dir, "b.gguf"))
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	d, err := diff.Compare(a, b, diff.Tolerance{Rel: 1e-3}) // F16 keeps 11 significant bits
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range d.Tensors {
		fmt.Println(t.Name, t.DTypeA, t.DTypeB, t.Status, t.MaxAbs)
	}
	fmt.Println("ok:", d.OK)
	// Output:
	// w F32 F16 within 0.20001220703125
	// ok: true
}
