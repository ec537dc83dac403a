package lora_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/lora"
)

// Open a PEFT adapter directory as peft's save_pretrained writes it:
// adapter_config.json and adapter_model.safetensors with lora_A (r, in)
// and lora_B (out, r) under "base_model.model.". Here r = 1 and
// lora_alpha = 2, so the module's scale is 2 and its update (Delta)
// 2·B·A = 2·[[1] [-1]]·[[1 0 2]].
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "lora-open-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	config := `{"peft_type": "LORA", "r": 1, "lora_alpha": 2, "target_modules": ["q_proj"], "task_type": "CAUSAL_LM"}`
	if err := os.WriteFile(filepath.Join(dir, "adapter_config.json"), []byte(config), 0o644); err != nil {
		log.Fatal(err)
	}
	const prefix = "base_model.model.model.layers.0.self_attn.q_proj."
	tensors := []struct {
		info format.TensorInfo
		vals []float32
	}{
		{format.TensorInfo{Name: prefix + "lora_A.weight", DType: format.F32, Shape: []int64{1, 3}}, []float32{1, 0, 2}},
		{format.TensorInfo{Name: prefix + "lora_B.weight", DType: format.F32, Shape: []int64{2, 1}}, []float32{1, -1}},
	}
	infos := []format.TensorInfo{tensors[0].info, tensors[1].info}
	sink, err := format.Create("safetensors", filepath.Join(dir, "adapter_model.safetensors"), infos, nil, format.CreateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tensors {
		data := make([]byte, 4*len(t.vals))
		if err := format.FromFloat32(data, t.vals, format.F32); err == nil {
			err = sink.WriteTensor(t.info.Name, data)
		}
		if err != nil {
			sink.Abort()
			log.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		log.Fatal(err)
	}

	a, err := lora.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	m := a.Modules[0]
	fmt.Println(a.Kind, len(a.Modules), "module:", m.Name)
	fmt.Printf("rank %d, %d→%d, scale %g, delta %v\n", m.Rank, m.In, m.Out, m.Scale(), m.Delta())
	// Output:
	// peft 1 module: model.layers.0.self_attn.q_proj
	// rank 1, 3→2, scale 2, delta [2 0 4 -2 0 -4]
}
