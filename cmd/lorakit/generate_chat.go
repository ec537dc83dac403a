package main

// generate --chat: the prompt wrapped in the model's chat template.

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/chat"
	"github.com/lorakit/lorakit/format"
	lmpkg "github.com/lorakit/lorakit/lm"
	"github.com/lorakit/lorakit/tokenizer"
)

// chatOptions are generate's chat flags.
type chatOptions struct {
	on       bool
	template string // SRC of the template; "" = the model's own
	system   string
}

func addChatFlags(cmd *cobra.Command, o *chatOptions) {
	f := cmd.Flags()
	f.BoolVar(&o.on, "chat", false, "wrap --prompt in the model's chat template as a user message")
	f.StringVar(&o.template, "chat-template", "", "chat template to use with --chat: HF dir, tokenizer_config.json, .jinja or GGUF (default: the model's)")
	f.StringVar(&o.system, "system", "", "with --chat: a system message before the prompt")
}

// encode returns the prompt's ids and, with --chat, the ids that end an
// assistant turn. Without --chat the prompt is encoded as plain text.
func (o chatOptions) encode(modelPath, prompt string, tok *tokenizer.Tokenizer) (ids, stops []int, err error) {
	if !o.on {
		if o.template != "" || o.system != "" {
			return nil, nil, usageError{fmt.Errorf("--chat-template and --system need --chat")}
		}
		return tok.Encode(prompt), nil, nil
	}
	src := o.template
	if src == "" {
		src = modelPath
		if !hasChatTemplate(src) {
			return nil, nil, fmt.Errorf("%s: no chat template with the model: give --chat-template: %w", lmpkg.DisplayName(modelPath), format.ErrNotFound)
		}
	}
	t, err := chat.Load(src, "")
	if err != nil {
		return nil, nil, err
	}
	var msgs []chat.Message
	if o.system != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: o.system})
	}
	msgs = append(msgs, chat.Message{Role: "user", Content: prompt})
	text, err := t.Render(chat.Request{Messages: msgs, AddGenerationPrompt: true})
	if err != nil {
		return nil, nil, err
	}
	end, err := t.TurnEnd()
	if err != nil {
		return nil, nil, err
	}
	special := chatTokenizer(tok)
	ids = special.Encode(text)
	// The first control token after an assistant reply ends the turn, and
	// so does the template's eos_token when it is one token.
	v := tok.Vocab()
	for _, id := range special.Encode(end) {
		if v.Type(id) == tokenizer.Control {
			stops = append(stops, id)
			break
		}
	}
	if e := special.Encode(t.EOS); len(e) == 1 && v.Type(e[0]) == tokenizer.Control {
		stops = append(stops, e[0])
	}
	return ids, stops, nil
}

// chatTokenizer is tok set up as transformers tokenizes a rendered chat:
// special-token text parsed, nothing added around it.
func chatTokenizer(tok *tokenizer.Tokenizer) *tokenizer.Tokenizer {
	c := *tok
	c.ParseSpecial, c.AddBOS, c.AddEOS = true, false, false
	return &c
}

// hasChatTemplate says whether path can hold a chat template (a directory
// or a GGUF file); the embedded model and llama2.c checkpoints have none.
func hasChatTemplate(path string) bool {
	if path == "" {
		return false
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return true
	}
	kind, err := format.Detect(path)
	return err == nil && kind == "gguf"
}
