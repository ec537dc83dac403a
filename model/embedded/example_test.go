package embedded_test

import (
	"fmt"

	"github.com/lorakit/lorakit/model"
	"github.com/lorakit/lorakit/model/embedded"
)

func ExampleSource() {
	src, err := embedded.Source()
	if err != nil {
		panic(err)
	}
	m, err := model.Load(src, model.Options{})
	if err != nil {
		panic(err)
	}
	c := m.Config
	fmt.Println(c.Arch, c.Layers, "layers, dim", c.Embd, "context", c.Context)
	// Output: llama 5 layers, dim 64 context 512
}
