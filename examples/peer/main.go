// Command peer writes the inputs of the side-by-side comparison with
// llama.cpp's tools (run.sh beside it): the GPT-2-small-shaped F32 GGUF the
// merge and verify benchmarks stream (498 MB, pseudo-random weights, gpt2
// metadata llama.cpp loads) and their rank-8 llama.cpp LoRA GGUF on
// attn_qkv of the 12 layers.
//
//	go run ./examples/peer DIR
package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/internal/benchmodel"
	"github.com/lorakit/lorakit/lora"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: peer DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	infos := benchmodel.GGUF(format.F32)
	md := format.Metadata{
		{Key: "general.architecture", Value: "gpt2"},
		{Key: "general.name", Value: "bench-gpt2-small"},
		{Key: "gpt2.context_length", Value: uint32(1024)},
		{Key: "gpt2.embedding_length", Value: uint32(768)},
		{Key: "gpt2.feed_forward_length", Value: uint32(3072)},
		{Key: "gpt2.block_count", Value: uint32(12)},
		{Key: "gpt2.attention.head_count", Value: uint32(12)},
		{Key: "gpt2.attention.layer_norm_epsilon", Value: float32(1e-5)},
		{Key: "general.file_type", Value: uint32(0)},
	}
	sink, err := format.Create("gguf", filepath.Join(dir, "gpt2-small-f32.gguf"), infos, md, format.CreateOptions{Force: true})
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, t := range infos {
		n, err := t.NumBytes()
		if err != nil {
			return err
		}
		b := make([]byte, n)
		for i := 0; i < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], math.Float32bits(float32(0.02*r.NormFloat64())))
		}
		if err := sink.WriteTensor(t.Name, b); err != nil {
			return err
		}
	}
	if err := sink.Close(); err != nil {
		return err
	}
	return lora.Write(benchmodel.QKVAdapter(false), filepath.Join(dir, "lora-qkv-r8.gguf"), lora.KindGGUF, lora.WriteOptions{Force: true})
}
