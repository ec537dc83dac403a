package data_test

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/train/data"
)

func Example() {
	text := "name : Blue Spice | eatType : pub||Blue Spice is a pub .\n" +
		"name : Blue Spice | eatType : pub||There is a pub called Blue Spice .\n"
	pairs, err := data.Read(strings.NewReader(text), "train.txt", data.FormatE2E)
	if err != nil {
		panic(err)
	}
	// A toy encoder, one id per word; use a tokenizer's Encode in practice.
	encode := func(s string) []int { return make([]int, len(strings.Fields(s))) }
	examples, stats, _ := data.LoRAE2E(encode, 50256, 512).Build(pairs, "train.txt")
	plan, _ := data.Batcher{Size: 2, Seed: 110, Shuffle: true}.Plan(examples, 0)
	batch := data.MakeBatch(examples, plan[0], 50256)
	fmt.Println(len(data.GroupByPrompt(pairs)), "meaning representation,", stats.Examples, "examples")
	fmt.Printf("batch %d×%d, %d loss tokens\n", batch.B, batch.T, batch.LossTokens())
	// Output:
	// 1 meaning representation, 2 examples
	// batch 2×17, 16 loss tokens
}
