package chat_test

import (
	"fmt"
	"log"

	"github.com/lorakit/lorakit/chat"
)

func ExampleParse() {
	// Phi-3's chat template.
	t, err := chat.Parse("phi-3", `{% for message in messages %}{{'<|' + message['role'] + '|>' + '\n' + message['content'] + '<|end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' + '\n' }}{% else %}{{ eos_token }}{% endif %}`)
	if err != nil {
		log.Fatal(err)
	}
	t.EOS = "<|endoftext|>"
	prompt, err := t.Render(chat.Request{
		Messages:            []chat.Message{{Role: "user", Content: "Hi!"}},
		AddGenerationPrompt: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", prompt)
	// Output:
	// "<|user|>\nHi!<|end|>\n<|assistant|>\n"
}

func ExampleLoad() {
	t, err := chat.Load("testdata/gemma2-template.gguf", "")
	if err != nil {
		log.Fatal(err)
	}
	_, err = t.Render(chat.Request{Messages: []chat.Message{{Role: "system", Content: "Be brief."}}})
	fmt.Println(t.BOS, t.EOS, err)
	// Output:
	// <bos> <eos> System role not supported
}
