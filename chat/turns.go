package chat

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// Span is a byte range [Start, End) of a rendered conversation.
type Span struct{ Start, End int }

// TurnEnd returns the text the template writes right after the content of
// an assistant message (Llama 3 "<|eot_id|>", ChatML "<|im_end|>\n", Gemma
// "<end_of_turn>\n", Phi-3 "<|end|>\n" followed by its closing eos_token):
// the text a model ends its turn with, so generation can stop there. It is
// found by rendering a user/assistant exchange with marker contents.
func (t *Template) TurnEnd() (string, error) {
	const user, reply = "\x02lorakit-user\x03", "\x02lorakit-reply\x03"
	out, err := t.Render(Request{Messages: []Message{{Role: "user", Content: user}, {Role: "assistant", Content: reply}}})
	if err != nil {
		return "", err
	}
	i := strings.LastIndex(out, reply)
	if i < 0 {
		return "", fmt.Errorf("chat template %s does not write an assistant message's content: %w", t.Name, format.ErrUnsupported)
	}
	return out[i+len(reply):], nil
}

// AssistantSpans renders the conversation (without a generation prompt) and
// returns the text with the byte spans that the assistant messages'
// turns occupy: for each assistant message, from the end of the prompt that
// asks for it (the conversation before it, rendered with the generation
// prompt) to the end of the conversation up to and including it (as far as
// that agrees with the whole), so the span holds the reply and the text
// that closes the turn. These are the
// tokens a model is trained on when loss is on assistant turns only.
//
// This needs each prefix of the conversation to render as a prefix of the
// whole. Templates that rewrite earlier turns (Qwen3 drops the reasoning of
// turns before the last user message) fail that for some conversations;
// AssistantSpans then refuses, naming the message, rather than guess.
func (t *Template) AssistantSpans(req Request) (string, []Span, error) {
	req.AddGenerationPrompt = false
	full, err := t.Render(req)
	if err != nil {
		return "", nil, err
	}
	var spans []Span
	for i, m := range req.Messages {
		if m.Role != "assistant" {
			continue
		}
		before, after := req, req
		before.Messages, before.AddGenerationPrompt = req.Messages[:i], true
		after.Messages = req.Messages[:i+1]
		b, err := t.Render(before)
		if err != nil {
			return "", nil, fmt.Errorf("messages[%d]: the conversation before it: %w", i, err)
		}
		a, err := t.Render(after)
		if err != nil {
			return "", nil, fmt.Errorf("messages[%d]: the conversation up to it: %w", i, err)
		}
		// Phi-3 and others close a conversation with eos_token only where it
		// ends; elsewhere the turn ends without it.
		end := len(a)
		if !strings.HasPrefix(full, a) && t.EOS != "" && strings.HasPrefix(full, strings.TrimSuffix(a, t.EOS)) {
			end -= len(t.EOS)
		}
		if !strings.HasPrefix(full, a[:end]) || !strings.HasPrefix(a, b) || end <= len(b) || !strings.Contains(a[len(b):end], strings.TrimSpace(m.Content)) {
			return "", nil, fmt.Errorf("messages[%d]: chat template %s renders this turn differently once later turns follow, so its tokens cannot be found: %w",
				i, t.Name, format.ErrUnsupported)
		}
		if len(spans) > 0 && len(b) < spans[len(spans)-1].End {
			return "", nil, fmt.Errorf("messages[%d]: overlaps the assistant turn before it: %w", i, format.ErrUnsupported)
		}
		spans = append(spans, Span{Start: len(b), End: end})
	}
	return full, spans, nil
}
