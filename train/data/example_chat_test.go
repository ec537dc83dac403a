package data_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/lorakit/lorakit/chat"
	"github.com/lorakit/lorakit/train/data"
)

func ExampleBuilder_BuildChat() {
	jsonl := `{"messages": [{"role": "user", "content": "hi there"}, {"role": "assistant", "content": "hello to you"}]}` + "\n"
	chats, err := data.ReadChat(strings.NewReader(jsonl), "chat.jsonl")
	if err != nil {
		log.Fatal(err)
	}
	t, err := chat.Parse("toy", `{% for m in messages %}{{ m.role + ': ' + m.content + ' END ' }}{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}`)
	if err != nil {
		log.Fatal(err)
	}
	// A toy encoder, one id per word (its length); use a tokenizer that
	// parses special tokens in practice.
	encode := func(s string) []int {
		var ids []int
		for _, w := range strings.Fields(s) {
			ids = append(ids, len(w))
		}
		return ids
	}
	ex, _, err := data.Builder{Encode: encode, BOS: -1, EOS: -1, Seq: 64}.BuildChat(chats, t, "chat.jsonl")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ex[0].Tokens)
	fmt.Println(ex[0].Loss)
	// Output:
	// [5 2 5 3 10 5 2 3 3]
	// [false false false false false true true true true]
}
