package model_test

import (
	"fmt"

	"github.com/lorakit/lorakit/format/llama2c"
	"github.com/lorakit/lorakit/model"
)

// Greedy decoding from BOS with a KV-cache session.
func ExampleModel_NewSession() {
	src, err := llama2c.Open("../../shared/data/models/stories260K/stories260K.bin")
	if err != nil {
		fmt.Println("stories260K not available")
		return
	}
	defer src.Close()
	m, err := model.Load(src, model.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := m.NewSession()
	id := 1
	var ids []int
	for range 5 {
		logits, err := s.Step([]int{id})
		if err != nil {
			fmt.Println(err)
			return
		}
		id = 0
		for i, v := range logits {
			if v > logits[id] {
				id = i
			}
		}
		ids = append(ids, id)
	}
	fmt.Println(ids)
	// Output: [403 407 261 378 432]
}
