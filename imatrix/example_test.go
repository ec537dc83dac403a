package imatrix_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/imatrix"
)

// A Collector sums the squared inputs a model's projections see; the
// resulting matrix is written in llama.cpp's GGUF format and read back as
// llama-quantize reads it (per-column means).
func Example() {
	c := imatrix.NewCollector()
	// Two forward passes of a projection with 2 input columns (x: rows x cols).
	c.Observe("blk.0.attn_q.weight", []float32{1, 2, 3, 4}, 2, 2)
	c.Observe("blk.0.attn_q.weight", []float32{1, 0}, 1, 2)
	c.Observe("output.weight", []float32{5, 5}, 1, 2) // not a block weight: left out, as llama-imatrix does
	m := c.Matrix(3, []string{"calib.txt"})

	dir, _ := os.MkdirTemp("", "imatrix")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "imatrix.gguf")
	if err := imatrix.Write(path, m, false); err != nil {
		fmt.Println(err)
		return
	}
	back, err := imatrix.Read(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range back.Entries {
		fmt.Println(e.Name, e.Sums, e.Counts, e.Importance())
	}
	fmt.Println("chunks:", back.Chunks, "datasets:", back.Datasets)
	// Output:
	// blk.0.attn_q.weight [11 20] [3] [3.6666667 6.6666665]
	// chunks: 1 datasets: [calib.txt]
}
