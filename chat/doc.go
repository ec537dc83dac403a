// Package chat renders the chat templates of today's models exactly as
// Hugging Face's transformers does (apply_chat_template with tokenize=False),
// so that a prompt built here tokenizes to the ids the model was trained on.
//
// A template is the Jinja source a model ships in tokenizer_config.json
// ("chat_template": a string or a list of named templates), in
// chat_template.jinja, or in a GGUF file's tokenizer.chat_template. Load
// finds it in any of those and reads the bos/eos tokens beside it:
//
//	t, err := chat.Load("Qwen2.5-0.5B-Instruct", "")
//	prompt, err := t.Render(chat.Request{
//		Messages:            []chat.Message{{Role: "user", Content: "Hi"}},
//		AddGenerationPrompt: true,
//	})
//
// Templates see what transformers hands them: messages, add_generation_prompt,
// bos_token, eos_token, tools, raise_exception (a *RaiseError comes back, as
// Gemma's "System role not supported"), strftime_now and any further
// variables (enable_thinking, date_string, ...). Objects keep their key order
// and tojson writes them as Python's json.dumps does.
//
// The Jinja engine is github.com/ardanlabs/jinja, written for chat templates;
// this package adds only what it lacks for them, through its public API (see
// tojson.go). The renders are checked byte for byte against
// @huggingface/jinja's for Llama 3.x, Qwen2.5, Qwen3, Gemma 2, Phi-3, Mistral
// NeMo, Mistral 7B v0.1, TinyLlama and DeepSeek-Coder (testdata/README.md).
package chat
