package resolve_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/resolve"
)

// ExampleBase_Module finds the base tensor a PEFT module updates in a
// directory of bare safetensors: the module's prefix is one the base lacks,
// and GPT-2's Conv1D weight is stored (in, out).
func ExampleBase_Module() {
	dir, _ := os.MkdirTemp("", "base")
	defer os.RemoveAll(dir)
	info := format.TensorInfo{Name: "h.0.attn.c_attn.weight", DType: format.F32, Shape: []int64{4, 12}}
	sink, _ := format.Create("safetensors", filepath.Join(dir, "model.safetensors"), []format.TensorInfo{info}, nil, format.CreateOptions{})
	sink.WriteTensor(info.Name, make([]byte, 4*4*12))
	sink.Close()

	b, err := resolve.Open(dir)
	if err != nil {
		panic(err)
	}
	defer b.Close()
	m := &lora.Module{Name: "base_model.model.transformer.h.0.attn.c_attn", Rank: 2, Out: 12, In: 4, FanInFanOut: true}
	t, err := b.Module(m)
	if err != nil {
		panic(err)
	}
	fmt.Println(t.Tensor.Name, t.Tensor.Shape, "transposed:", t.Transposed)
	// Output: h.0.attn.c_attn.weight [4 12] transposed: true
}
