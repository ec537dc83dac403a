package llama2c_test

import (
	"encoding/binary"
	"fmt"
	"log"
	"math"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/llama2c"
)

// Read a tiny legacy llama2.c checkpoint held in memory: a 7-int32 header
// (dim 4, hidden 8, 1 layer, 2 heads, 2 KV heads, vocab 3, seq 2; the
// positive vocab means the classifier is the embedding) and then 188
// float32s: embedding 3x4, attention norm 4, q/k/v/o 4x4 each, FFN norm 4,
// gate/down/up 8x4 each, final norm 4 and 2x2x1 RoPE values (skipped).
func ExampleNewReader() {
	header := []int32{4, 8, 1, 2, 2, 3, 2}
	const floats = 3*4 + 4 + 4*16 + 4 + 3*32 + 4 + 4
	data := make([]byte, 4*len(header)+4*floats)
	for i, v := range header {
		binary.LittleEndian.PutUint32(data[4*i:], uint32(v))
	}
	for i := range floats {
		binary.LittleEndian.PutUint32(data[28+4*i:], math.Float32bits(float32(i)))
	}

	r, err := llama2c.NewReader(data, "tiny.bin")
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	fmt.Printf("%+v\n", r.Config())
	ts := r.Tensors()
	fmt.Println(len(ts), "tensors:", ts[0].Name, ts[0].Shape, "...", ts[len(ts)-1].Name)
	b, err := r.TensorData("blk.0.attn_norm.weight")
	if err != nil {
		log.Fatal(err)
	}
	norm := make([]float32, 4)
	if err := format.ToFloat32(norm, b, format.F32); err != nil {
		log.Fatal(err)
	}
	layers, _ := r.Metadata().Int("llama.block_count")
	fmt.Println("attn_norm:", norm, "layers:", layers)
	// Output:
	// {Dim:4 HiddenDim:8 Layers:1 Heads:2 KVHeads:2 Vocab:3 SeqLen:2 SharedClassifier:true Version:0}
	// 11 tensors: token_embd.weight [3 4] ... output_norm.weight
	// attn_norm: [12 13 14 15] layers: 1
}
