package lora_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/lora"
)

// A rank-1 adapter on one layer: dW = (alpha/r) * B*A.
func ExampleModule_Delta() {
	m := &lora.Module{Name: "q_proj", Rank: 1, In: 2, Out: 2, Alpha: 2,
		A: []float32{1, 2}, B: []float32{3, 4}}
	fmt.Println(m.Scale(), m.Delta())
	// Output: 2 [6 12 8 16]
}

// Write an adapter as a PEFT directory and open it again; Open detects the
// layout from the content.
func ExampleWritePEFT() {
	tmp, err := os.MkdirTemp("", "lora-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	a := &lora.Adapter{Modules: []*lora.Module{{Name: "transformer.h.0.attn.c_attn", Rank: 1, In: 2, Out: 3,
		Alpha: 4, FanInFanOut: true, A: []float32{1, 2}, B: []float32{1, 2, 3}}}}
	dir := filepath.Join(tmp, "adapter")
	if err := lora.WritePEFT(a, dir, lora.WriteOptions{}); err != nil {
		log.Fatal(err)
	}
	b, err := lora.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	m := b.Modules[0]
	fmt.Println(b.Kind, m.Name, m.Rank, m.Scale(), b.Config.FanInFanOut, b.Config.TargetModules.List)
	// Output: peft transformer.h.0.attn.c_attn 1 4 true [transformer.h.0.attn.c_attn]
}

// Write a llama.cpp LoRA GGUF: names are GGUF names, one alpha for all.
func ExampleWriteGGUF() {
	tmp, err := os.MkdirTemp("", "lora-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	a := &lora.Adapter{Arch: "llama", Modules: []*lora.Module{{Name: "blk.0.attn_q", Rank: 2, In: 2, Out: 2,
		Alpha: 16, A: []float32{1, 0, 0, 1}, B: []float32{1, 1, 1, 1}}}}
	path := filepath.Join(tmp, "adapter.gguf")
	if err := lora.WriteGGUF(a, path, lora.WriteOptions{}); err != nil {
		log.Fatal(err)
	}
	b, err := lora.ReadGGUF(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.Arch, b.Modules[0].Name, b.Modules[0].Scale())
	// Output: llama blk.0.attn_q 8
}

// An adapter's base family comes from its module names and base model
// name; without a name that settles it, it is refused, never guessed.
func ExampleAdapter_Family() {
	q := func() []*lora.Module {
		return []*lora.Module{{Name: "model.layers.0.self_attn.q_proj", Rank: 1, In: 2, Out: 2, Alpha: 1,
			A: []float32{1, 0}, B: []float32{1, 1}}}
	}
	named := &lora.Adapter{Kind: lora.KindPEFT, Config: &lora.Config{BaseModel: "Qwen/Qwen2.5-0.5B-Instruct"}, Modules: q()}
	f, err := named.Family()
	fmt.Println(f.Name, err)
	anonymous := &lora.Adapter{Kind: lora.KindPEFT, Config: &lora.Config{}, Modules: q()}
	_, err = anonymous.Family()
	fmt.Println(err != nil)
	// Output:
	// qwen2 <nil>
	// true
}

// Write picks the layout from the path when no kind is given: a ".gguf"
// file is a llama.cpp LoRA GGUF, anything else a PEFT directory. Open reads
// either back.
func ExampleWrite() {
	tmp, err := os.MkdirTemp("", "lora-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	a := &lora.Adapter{Arch: "llama", Modules: []*lora.Module{{Name: "blk.0.attn_q", Rank: 1, In: 2, Out: 2,
		Alpha: 1, A: []float32{1, 2}, B: []float32{3, 4}}}}
	for _, name := range []string{"adapter.gguf", "adapter-dir"} {
		path := filepath.Join(tmp, name)
		if err := lora.Write(a, path, "", lora.WriteOptions{}); err != nil {
			log.Fatal(err)
		}
		b, err := lora.Open(path)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(name, b.Kind, b.Modules[0].Name, b.Modules[0].Delta())
	}
	// Output:
	// adapter.gguf gguf blk.0.attn_q [3 6 4 8]
	// adapter-dir peft blk.0.attn_q [3 6 4 8]
}
