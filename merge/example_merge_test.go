package merge_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/safetensors" // registers "safetensors"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/merge"
)

// baseWeight is the base's one tensor, the 2×3 weight "lin.weight" =
// [[1 2 3] [4 5 6]], and its F32 bytes.
func baseWeight() (format.TensorInfo, []byte) {
	info := format.TensorInfo{Name: "lin.weight", DType: format.F32, Shape: []int64{2, 3}}
	data := make([]byte, 4*6)
	if err := format.FromFloat32(data, []float32{1, 2, 3, 4, 5, 6}, format.F32); err != nil {
		log.Fatal(err)
	}
	return info, data
}

// writeBase writes a safetensors base holding baseWeight.
func writeBase(path string) {
	info, data := baseWeight()
	sink, err := format.Create("safetensors", path, []format.TensorInfo{info}, nil, format.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := sink.WriteTensor(info.Name, data); err != nil {
		sink.Abort()
		log.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		log.Fatal(err)
	}
}

// rankOne is a rank-1 adapter of module "lin": A = [[1 0 2]], B = [[1]
// [-1]], alpha 2, so its update is (2/1)·B·A = [[2 0 4] [-2 0 -4]].
func rankOne() *lora.Adapter {
	return &lora.Adapter{Kind: lora.KindPEFT, DType: format.F32, Config: lora.NewConfig(1, 2),
		Modules: []*lora.Module{{Name: "lin", Rank: 1, In: 3, Out: 2, Alpha: 2,
			A: []float32{1, 0, 2}, B: []float32{1, -1}}}}
}

// readWeight returns the float32 values of tensor name in the file at path.
func readWeight(path, name string) []float32 {
	src, err := format.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	return weight(src, name)
}

// weight returns the float32 values of tensor name in src.
func weight(src format.Source, name string) []float32 {
	info, ok := format.TensorIndex(src.Tensors(), name)
	if !ok {
		log.Fatalf("no tensor %q", name)
	}
	raw, err := src.TensorData(name)
	if err != nil {
		log.Fatal(err)
	}
	vals := make([]float32, len(raw)/4)
	if err := format.ToFloat32(vals, raw, info.DType); err != nil {
		log.Fatal(err)
	}
	return vals
}

// Merge a rank-1 adapter into a safetensors base: W + (alpha/r)·B·A =
// [[1 2 3] [4 5 6]] + [[2 0 4] [-2 0 -4]]. An Input names an adapter by
// Path (a PEFT directory, a LoRA GGUF, ...) or carries it in memory.
func ExampleMerge() {
	dir, err := os.MkdirTemp("", "merge-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	base, out := filepath.Join(dir, "base.safetensors"), filepath.Join(dir, "merged.safetensors")
	writeBase(base)

	rep, err := merge.Merge(context.Background(), base, []merge.Input{{Adapter: rankOne(), Scale: 1}}, out, merge.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Format, rep.Tensors, "tensor, merged:", rep.Merged[0].Name)
	fmt.Println(readWeight(out, "lin.weight"))
	// Output:
	// safetensors 1 tensor, merged: lin.weight
	// [3 2 7 2 5 2]
}

// Extract recovers the adapter from a base and its fine-tuned copy (here
// the merge of ExampleMerge): the difference has rank 1, so rank 1 keeps
// all of its energy and (alpha/r)·B·A is the update itself, up to float32
// rounding.
func ExampleExtract() {
	dir, err := os.MkdirTemp("", "extract-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	base, tuned := filepath.Join(dir, "base.safetensors"), filepath.Join(dir, "tuned.safetensors")
	writeBase(base)
	if _, err := merge.Merge(context.Background(), base, []merge.Input{{Adapter: rankOne(), Scale: 1}}, tuned, merge.Options{}); err != nil {
		log.Fatal(err)
	}

	res, err := merge.Extract(context.Background(), base, tuned, merge.ExtractOptions{Rank: 1})
	if err != nil {
		log.Fatal(err)
	}
	r := res.Modules[0]
	fmt.Printf("%s from %s: rank %d, energy %.6f\n", r.Module, r.Tensor, r.Rank, r.Energy)
	m := res.Adapter.Module(r.Module)
	for _, v := range m.Delta() { // (alpha/r)·B·A
		fmt.Printf("%.4g ", v)
	}
	fmt.Println()
	// Output:
	// lin from lin.weight: rank 1, energy 1.000000
	// 2 0 4 -2 0 -4
}
