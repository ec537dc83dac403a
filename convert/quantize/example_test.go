package quantize_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	_ "github.com/lorakit/lorakit/format/gguf" // registers "gguf"
)

// Names parse as llama-quantize spells them, in any case; a bare ggml type
// means the preset llama-quantize gives that name.
func ExampleParsePreset() {
	for _, s := range []string{"Q4_K_M", "q8_0", "q4_k"} {
		p, err := quantize.ParsePreset(s)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s, "->", p.Name, "file type", uint32(p.FileType), "base", p.Base)
	}
	// Output:
	// Q4_K_M -> Q4_K_M file type 15 base Q4_K
	// q8_0 -> Q8_0 file type 7 base Q8_0
	// q4_k -> Q4_K_M file type 15 base Q4_K
}

// Plan a Q4_K_M quantization of a one-layer llama GGUF: the norm stays F32,
// attn_q gets the base type Q4_K, and, as llama-quantize decides, attn_v
// and ffn_down of a layer in the first or last eighth get Q6_K, as does the
// output matrix. The plan lists tensors in llama-quantize's output order:
// the ones outside blocks by name, then each block's.
func ExamplePlanFile() {
	dir, err := os.MkdirTemp("", "quantize-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	const d, ff, vocab = 256, 512, 1024
	infos := []format.TensorInfo{
		{Name: "token_embd.weight", DType: format.F32, Shape: []int64{vocab, d}},
		{Name: "blk.0.attn_norm.weight", DType: format.F32, Shape: []int64{d}},
		{Name: "blk.0.attn_q.weight", DType: format.F32, Shape: []int64{d, d}},
		{Name: "blk.0.attn_v.weight", DType: format.F32, Shape: []int64{d, d}},
		{Name: "blk.0.ffn_down.weight", DType: format.F32, Shape: []int64{d, ff}},
		{Name: "output.weight", DType: format.F32, Shape: []int64{vocab, d}},
	}
	md := format.Metadata{
		{Key: "general.architecture", Value: "llama"},
		{Key: "llama.block_count", Value: uint32(1)},
	}
	path := filepath.Join(dir, "tiny.gguf")
	sink, err := format.Create("gguf", path, infos, md, format.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range infos {
		n, _ := t.NumBytes()
		if err := sink.WriteTensor(t.Name, make([]byte, n)); err != nil {
			log.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		log.Fatal(err)
	}

	p, err := quantize.ParsePreset("Q4_K_M")
	if err != nil {
		log.Fatal(err)
	}
	plan, err := quantize.PlanFile(path, quantize.Options{Preset: p})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range plan.Tensors {
		fmt.Println(t.In.Name, t.In.DType, "->", t.Out)
	}
	// Output:
	// output.weight F32 -> Q6_K
	// token_embd.weight F32 -> Q4_K
	// blk.0.attn_norm.weight F32 -> F32
	// blk.0.attn_q.weight F32 -> Q4_K
	// blk.0.attn_v.weight F32 -> Q6_K
	// blk.0.ffn_down.weight F32 -> Q6_K
}
