package gguf_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
)

func ExampleOpen() {
	r, err := gguf.Open(filepath.Join("testdata", "gpt2-lora-r4.gguf"))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	alpha, _ := r.Metadata().Get("adapter.lora.alpha")
	fmt.Printf("GGUF v%d, alpha %v (%T)\n", r.Version(), alpha, alpha)
	for _, t := range r.Tensors()[:2] {
		data, _ := r.TensorData(t.Name)
		fmt.Println(t, len(data), "bytes")
	}
	// Output:
	// GGUF v3, alpha 16 (float32)
	// blk.0.attn_qkv.weight.lora_a F32 [4 96] 1536 bytes
	// blk.0.attn_qkv.weight.lora_b F32 [288 4] 4608 bytes
}

func ExampleCreate() {
	dir, err := os.MkdirTemp("", "gguf-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "adapter.gguf")

	md := format.Metadata{
		{Key: "general.architecture", Value: "llama"},
		{Key: "general.type", Value: "adapter"},
		{Key: "adapter.type", Value: "lora"},
	}
	gguf.SetFloat32(&md, "adapter.lora.alpha", 16) // llama.cpp reads it as FLOAT32
	infos := []format.TensorInfo{
		{Name: "blk.0.attn_q.weight.lora_a", DType: format.F32, Shape: []int64{8, 64}}, // (r, in)
		{Name: "blk.0.attn_q.weight.lora_b", DType: format.F32, Shape: []int64{64, 8}}, // (out, r)
	}
	w, err := gguf.Create(path, infos, md, format.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range infos {
		n, _ := t.NumBytes()
		if err := w.WriteTensor(t.Name, make([]byte, n)); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	r, err := gguf.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	off, _ := r.TensorOffset("blk.0.attn_q.weight.lora_b")
	fmt.Println(len(r.Metadata()), "keys;", r.Tensors()[1], "at offset", off)
	// Output:
	// 4 keys; blk.0.attn_q.weight.lora_b F32 [64 8] at offset 2368
}

func ExampleSetCount() {
	var md format.Metadata
	if err := gguf.SetCount(&md, "llama.context_length", 4096); err != nil {
		log.Fatal(err)
	}
	v, _ := md.Get("llama.context_length")
	fmt.Printf("%v %T\n", v, v)
	// Output: 4096 uint32
}

// ExampleCreateSplit writes a two-tensor model as a set of one-tensor
// shards, as llama-gguf-split --split-max-tensors 1 would, and reads the
// set back from its first shard as one model.
func ExampleCreateSplit() {
	dir, _ := os.MkdirTemp("", "split")
	defer os.RemoveAll(dir)
	infos := []format.TensorInfo{
		{Name: "a", DType: format.F32, Shape: []int64{2}},
		{Name: "b", DType: format.F32, Shape: []int64{2}},
	}
	md := format.Metadata{{Key: "general.architecture", Value: "llama"}}
	w, err := gguf.CreateSplit(filepath.Join(dir, "model.gguf"), infos, md,
		format.CreateOptions{Split: format.SplitLimits{MaxTensors: 1}})
	if err != nil {
		panic(err)
	}
	w.WriteTensor("a", make([]byte, 8))
	w.WriteTensor("b", make([]byte, 8))
	if err := w.Close(); err != nil {
		panic(err)
	}
	for _, p := range w.Paths() {
		fmt.Println(filepath.Base(p))
	}
	src, err := format.Open(w.Paths()[0])
	if err != nil {
		panic(err)
	}
	defer src.Close()
	fmt.Println(len(src.Tensors()), "tensors,", len(src.Metadata()), "key")
	// Output:
	// model-00001-of-00002.gguf
	// model-00002-of-00002.gguf
	// 2 tensors, 1 key
}
