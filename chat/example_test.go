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

func ExampleParseConversation() {
	conv, err := chat.ParseConversation([]byte(`{"messages": [{"role": "user", "content": "Weather in Oslo?"}],
		"tools": [{"type": "function", "function": {"name": "get_weather"}}]}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(conv.Messages), conv.Messages[0].Role, len(conv.Tools))
	_, err = chat.ParseConversation([]byte(`[{"role": "user"}]`))
	fmt.Println(err)
	// Output:
	// 1 user 1
	// messages[0]: no "content": malformed file
}

func ExampleTemplate_AssistantSpans() {
	// A ChatML template (Qwen's, without its system default).
	t, err := chat.Parse("chatml", `{% for m in messages %}{{ '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`)
	if err != nil {
		log.Fatal(err)
	}
	text, spans, err := t.AssistantSpans(chat.Request{Messages: []chat.Message{
		{Role: "user", Content: "2+2?"}, {Role: "assistant", Content: "4"},
		{Role: "user", Content: "3+3?"}, {Role: "assistant", Content: "6"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range spans {
		fmt.Printf("%q\n", text[s.Start:s.End])
	}
	end, _ := t.TurnEnd()
	fmt.Printf("turn end %q\n", end)
	// Output:
	// "4<|im_end|>\n"
	// "6<|im_end|>\n"
	// turn end "<|im_end|>\n"
}
