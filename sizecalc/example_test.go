package sizecalc_test

import (
	"fmt"
	"log"

	"github.com/lorakit/lorakit/sizecalc"
)

// Size LoRA on GPT-2 small (124,439,808 parameters, as its model card
// says): rank 8 on q and v adapts 12 layers × 2 matrices × 8·(768+768)
// parameters. Weights are F32 (no torch_dtype), Adam's moments F32.
func ExampleShape_Size() {
	config := []byte(`{"model_type":"gpt2","n_embd":768,"n_layer":12,"n_head":12,"n_positions":1024,"vocab_size":50257}`)
	shape, err := sizecalc.ParseShape(config, "config.json")
	if err != nil {
		log.Fatal(err)
	}
	r, err := shape.Size(sizecalc.Options{Rank: 8, Targets: []string{"q", "v"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("total:", r.TotalParams, "trainable:", r.TrainableParams)
	fmt.Println("adapter bytes:", r.AdapterBytes)
	fmt.Println("full fine-tuning bytes:", r.FullFTMemory, "LoRA bytes:", r.LoRAMemory)
	// Output:
	// total: 124439808 trainable: 294912
	// adapter bytes: 1179648
	// full fine-tuning bytes: 1991036928 LoRA bytes: 502477824
}
