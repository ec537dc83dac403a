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
// returns the text with the byte spans that the assistant messages' turns
// occupy in it: for each assistant message, from the end of the prompt that
// asks for it (the conversation before it, rendered with the generation
// prompt) through the reply and the text that closes the turn. These are
// the tokens a model is trained on when the loss is on assistant turns only.
//
// The turn is found by rendering the conversation up to the message (where
// it is the last turn) and matching that turn in the whole. Two differences
// between a last and an earlier turn are understood: a closing eos_token
// written only at the very end (Phi-3), and text written before the reply
// of the last turn only (Qwen3's empty <think></think> block). Templates
// that rewrite earlier turns otherwise (Qwen3 drops the reasoning of turns
// before the last user message) make AssistantSpans refuse, naming the
// message, rather than guess.
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
		before, upTo := req, req
		before.Messages, before.AddGenerationPrompt = req.Messages[:i], true
		upTo.Messages = req.Messages[:i+1]
		b, err := t.Render(before)
		if err != nil {
			return "", nil, fmt.Errorf("messages[%d]: the conversation before it: %w", i, err)
		}
		a, err := t.Render(upTo)
		if err != nil {
			return "", nil, fmt.Errorf("messages[%d]: the conversation up to it: %w", i, err)
		}
		n, ok := 0, strings.HasPrefix(a, b) && strings.HasPrefix(full, b)
		if ok {
			n, ok = turnIn(full[len(b):], a[len(b):], t.EOS, strings.TrimSpace(m.Content))
		}
		if !ok {
			return "", nil, fmt.Errorf("messages[%d]: chat template %s renders this turn differently once later turns follow, so its tokens cannot be found: %w",
				i, t.Name, format.ErrUnsupported)
		}
		if len(spans) > 0 && len(b) < spans[len(spans)-1].End {
			return "", nil, fmt.Errorf("messages[%d]: overlaps the assistant turn before it: %w", i, format.ErrUnsupported)
		}
		spans = append(spans, Span{Start: len(b), End: len(b) + n})
	}
	return full, spans, nil
}

// turnIn returns the length of an assistant turn at the start of rest (the
// whole conversation from the turn on), given the turn as rendered last
// (turn), the template's eos_token and the reply: turn itself, or turn from
// the reply on, each with or without a final eos_token, whichever rest
// starts with, as long as it holds the reply.
func turnIn(rest, turn, eos, reply string) (int, bool) {
	tails := []string{turn}
	if p := strings.LastIndex(turn, reply); reply != "" && p > 0 {
		tails = append(tails, turn[p:])
	}
	for _, tail := range tails {
		for _, cand := range []string{tail, strings.TrimSuffix(tail, eos)} {
			if cand != "" && strings.HasPrefix(rest, cand) && strings.Contains(cand, reply) {
				return len(cand), true
			}
		}
	}
	return 0, false
}
