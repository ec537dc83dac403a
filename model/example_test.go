package model_test

import (
	"fmt"

	"github.com/lorakit/lorakit/format/gguf"
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

// Runtime LoRA on the experts of a Mixtral-style model: one rank-2 pair
// per expert of blk.0.ffn_up_exps (B zero here, so the logits keep
// llama.cpp's argmax for this fixture, 21).
func ExampleModel_ApplyExpertLoRA() {
	src, err := gguf.Open("../../shared/fixtures/arch/mixtral-f32.gguf")
	if err != nil {
		fmt.Println("fixture not available")
		return
	}
	defer src.Close()
	m, err := model.Load(src, model.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := m.Config
	var a, b [][]float32
	for range c.Experts {
		a = append(a, make([]float32, 2*c.Embd))     // A (rank, in)
		b = append(b, make([]float32, c.ExpertFF*2)) // B (out, rank)
	}
	if err := m.ApplyExpertLoRA("blk.0.ffn_up_exps", a, b, 2, 1); err != nil {
		fmt.Println(err)
		return
	}
	logits, err := m.Logits([]int{1, 2, 3, 4, 5})
	if err != nil {
		fmt.Println(err)
		return
	}
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	fmt.Println(c.Arch, c.Experts, c.ExpertsUsed, best)
	// Output: llama 4 2 21
}
