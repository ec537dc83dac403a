// Command peer writes the inputs of the side-by-side comparison with
// llama.cpp's tools (run.sh beside it): the GPT-2-small-shaped F32 GGUF the
// merge and verify benchmarks stream (498 MB, pseudo-random weights, gpt2
// metadata llama.cpp loads), their rank-8 llama.cpp LoRA GGUF on
// attn_qkv of the 12 layers, and an importance matrix (imatrix.gguf,
// llama.cpp's GGUF imatrix format) for the IQ quantizations: for every
// weight matrix llama-imatrix would observe (attn_qkv, attn_output, ffn_up,
// ffn_down of each layer) 512 counted rows and per-column mean squared
// inputs exp(N(0,1)), pseudo-random and deterministic.
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
	"strings"

	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/imatrix"
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
	if err := lora.Write(benchmodel.QKVAdapter(false), filepath.Join(dir, "lora-qkv-r8.gguf"), lora.KindGGUF, lora.WriteOptions{Force: true}); err != nil {
		return err
	}
	return imatrix.Write(filepath.Join(dir, "imatrix.gguf"), importance(infos), true)
}

// importance is the synthetic importance matrix of the model's matrices
// (infos): each 2-D blk.* weight gets 512 rows and sums 512·exp(N(0,1))
// per column (its inner dimension).
func importance(infos []format.TensorInfo) *imatrix.Matrix {
	const rows = 512
	r := rand.New(rand.NewPCG(3, 4))
	m := &imatrix.Matrix{Datasets: []string{"synthetic exp(N(0,1))"}, Chunks: 8, ChunkSize: 64}
	for _, t := range infos {
		if len(t.Shape) != 2 || !strings.HasPrefix(t.Name, "blk.") {
			continue
		}
		e := imatrix.Entry{Name: t.Name, Cols: int(t.Shape[1]), Sums: make([]float32, t.Shape[1]), Counts: []float32{rows}}
		for j := range e.Sums {
			e.Sums[j] = float32(rows * math.Exp(r.NormFloat64()))
		}
		m.Entries = append(m.Entries, e)
	}
	return m
}
