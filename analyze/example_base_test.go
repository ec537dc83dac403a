package analyze_test

import (
	"encoding/binary"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/analyze"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/resolve"
)

// NewBase finds each module's base weight as merge does: here a PEFT
// module path with a prefix the bare safetensors base lacks, and GPT-2's
// Conv1D weight stored (in, out), handed back as (out, in) like ΔW.
func ExampleNewBase() {
	base, mod, done := conv1DModule("base_model.model.transformer.h.0.attn.c_attn")
	defer done()
	w, err := base.Weight(mod.Name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(mod.Name)
	fmt.Printf("%v\n", mat.Formatted(w))
	// Output:
	// base_model.model.transformer.h.0.attn.c_attn
	// ⎡1  4⎤
	// ⎢2  5⎥
	// ⎣3  6⎦
}

// Stream hands Amplify a base weight without decoding it whole: rows of
// the stored matrix are read a band at a time from the mapped checkpoint.
// GPT-2's Conv1D weight is stored (in, out), so its stored rows are W's
// columns.
func ExampleBase_Stream() {
	base, mod, done := conv1DModule("transformer.h.0.attn.c_attn")
	defer done()
	w, err := base.Stream(mod.Name)
	if err != nil {
		log.Fatal(err)
	}
	out, in := w.Dims()
	row := make([]float64, out)
	if err := w.ReadRows(row, 1, 2); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("W is %d×%d, stored transposed: %v; stored row 1 = W's column 1 = %v\n", out, in, w.Transposed(), row)
	// Output:
	// W is 3×2, stored transposed: true; stored row 1 = W's column 1 = [4 5 6]
}

// conv1DModule opens the base of conv1DBase and resolves against it a
// rank-1 PEFT adapter of one module, name (the Conv1D weight's module
// under some prefix); done closes the base and removes its directory.
func conv1DModule(name string) (base *analyze.Base, mod analyze.Module, done func()) {
	dir := conv1DBase()
	b, err := resolve.Open(dir)
	if err != nil {
		os.RemoveAll(dir)
		log.Fatal(err)
	}
	done = func() {
		b.Close()
		os.RemoveAll(dir)
	}
	a := &lora.Adapter{Kind: lora.KindPEFT, Modules: []*lora.Module{{Name: name,
		Rank: 1, In: 2, Out: 3, Alpha: 1, FanInFanOut: true, A: []float32{1, 0}, B: []float32{1, 1, 1}}}}
	base = analyze.NewBase(b)
	mods, err := base.Modules(a, "adapter")
	if err != nil {
		done()
		log.Fatal(err)
	}
	return base, mods[0], done
}

// conv1DBase writes a bare safetensors base into a new directory: one
// GPT-2 Conv1D weight, stored (in, out) = (2, 3), holding 1 … 6.
func conv1DBase() string {
	dir, err := os.MkdirTemp("", "analyze-base")
	if err != nil {
		log.Fatal(err)
	}
	info := format.TensorInfo{Name: "h.0.attn.c_attn.weight", DType: format.F32, Shape: []int64{2, 3}} // (in, out)
	raw := make([]byte, 4*6)
	for i := range 6 {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(i+1)))
	}
	sink, err := format.Create("safetensors", filepath.Join(dir, "model.safetensors"), []format.TensorInfo{info}, nil, format.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := sink.WriteTensor(info.Name, raw); err != nil {
		log.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		log.Fatal(err)
	}
	return dir
}
