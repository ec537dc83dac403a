package merge_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/merge"
)

// memoryBase returns baseWeight as a safetensors checkpoint held in memory.
func memoryBase() format.Source {
	info, data := baseWeight()
	var buf bytes.Buffer
	w, err := safetensors.NewWriter(&buf, []format.TensorInfo{info}, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := w.WriteTensor(info.Name, data); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	src, err := safetensors.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		log.Fatal(err)
	}
	return src
}

// Merge without files: the base is any format.Source (here a safetensors
// checkpoint in memory) and the output any format.Sink, created from the
// plan's tensors and metadata (here a safetensors writer into a buffer).
// The update is ExampleMerge's: [[1 2 3] [4 5 6]] + [[2 0 4] [-2 0 -4]].
func ExampleNewPlan() {
	base := memoryBase()
	defer base.Close()
	plan, err := merge.NewPlan(base, []merge.Input{{Adapter: rankOne(), Scale: 1}}, merge.Options{})
	if err != nil {
		log.Fatal(err)
	}

	var out bytes.Buffer
	sink, err := safetensors.NewWriter(&out, plan.Tensors(), plan.Metadata())
	if err != nil {
		log.Fatal(err)
	}
	rep, err := plan.Write(context.Background(), sink)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Format, rep.Tensors, "tensor, merged:", rep.Merged[0].Name, "by", rep.Merged[0].By)

	merged, err := safetensors.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(weight(merged, "lin.weight"))
	// Output:
	// safetensors 1 tensor, merged: lin.weight by [adapter (in memory): module "lin"]
	// [3 2 7 2 5 2]
}

// Extract from two checkpoints already open: the base, and the base with
// rankOne merged (written by a Plan into memory). The difference has rank
// 1, so rank 1 recovers it whole.
func ExampleExtractSources() {
	base := memoryBase()
	defer base.Close()
	plan, err := merge.NewPlan(base, []merge.Input{{Adapter: rankOne(), Scale: 1}}, merge.Options{})
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	sink, err := safetensors.NewWriter(&buf, plan.Tensors(), plan.Metadata())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := plan.Write(context.Background(), sink); err != nil {
		log.Fatal(err)
	}
	tuned, err := safetensors.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		log.Fatal(err)
	}

	res, err := merge.ExtractSources(context.Background(), base, tuned, merge.ExtractOptions{Rank: 1})
	if err != nil {
		log.Fatal(err)
	}
	r := res.Modules[0]
	fmt.Printf("%s from %s: rank %d, energy %.6f\n", r.Module, r.Tensor, r.Rank, r.Energy)
	for _, v := range res.Adapter.Module(r.Module).Delta() { // (alpha/r)·B·A
		fmt.Printf("%.4g ", v)
	}
	fmt.Println()
	// Output:
	// lin from lin.weight: rank 1, energy 1.000000
	// 2 0 4 -2 0 -4
}
