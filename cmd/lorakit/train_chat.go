package main

import (
	"fmt"

	"github.com/lorakit/lorakit/chat"
	"github.com/lorakit/lorakit/format"
	lmpkg "github.com/lorakit/lorakit/lm"
	"github.com/lorakit/lorakit/tokenizer"
	"github.com/lorakit/lorakit/train/data"
)

// chatData builds train's chat examples: conversations rendered with the
// template (--chat-template, else the base model's), tokenized as
// transformers tokenizes a rendered chat.
type chatData struct {
	base, template string
	tok            *tokenizer.Tokenizer
	t              *chat.Template // loaded on first use
}

func (c *chatData) build(b data.Builder, path string) ([]data.Example, data.Stats, error) {
	if c.t == nil {
		src := c.template
		if src == "" {
			src = c.base
			if !hasChatTemplate(src) {
				return nil, data.Stats{}, fmt.Errorf("%s: chat data needs a chat template and %s has none: give --chat-template: %w", path, lmpkg.DisplayName(c.base), format.ErrNotFound)
			}
		}
		t, err := chat.Load(src, "")
		if err != nil {
			return nil, data.Stats{}, err
		}
		c.t = t
	}
	chats, err := data.LoadChat(path)
	if err != nil {
		return nil, data.Stats{}, err
	}
	if len(chats) == 0 {
		return nil, data.Stats{}, fmt.Errorf("%s: no conversations: %w", path, format.ErrNotFound)
	}
	b.Encode = chatTokenizer(c.tok).Encode
	return b.BuildChat(chats, c.t, path)
}
