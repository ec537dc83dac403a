package chat

import (
	"errors"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestTurnEnd reads the end-of-turn text off real templates; the expected
// strings are those the templates' @huggingface/jinja renders show after an
// assistant reply (renders.json).
func TestTurnEnd(t *testing.T) {
	specs := templateSpecs(t)
	for name, want := range map[string]string{
		"llama3":                   "<|eot_id|>",
		"qwen2.5":                  "<|im_end|>\n",
		"qwen3":                    "<|im_end|>\n",
		"gemma-2":                  "<end_of_turn>\n",
		"phi-3-mini":               "<|end|>\n<|endoftext|>",
		"tinyllama-1.1b-chat":      "</s>\n",
		"mistral-7b-instruct-v0.1": "</s> ",
		"deepseek-coder-instruct":  "\n<|EOT|>\n",
		"mistral-nemo":             "",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := loadTestTemplate(t, specs[name]).TurnEnd()
			if err != nil || got != want {
				t.Errorf("TurnEnd() = %q, %v; want %q", got, err, want)
			}
		})
	}
}

// TestAssistantSpans checks that the spans cut the reference render of a
// multi-turn conversation into the assistant replies with their turn ends.
func TestAssistantSpans(t *testing.T) {
	var refs map[string]reference
	specs := templateSpecs(t)
	readJSON(t, "testdata/renders.json", &refs)
	for _, c := range []struct {
		model string
		want  []string
	}{
		{"qwen2.5", []string{"4<|im_end|>\n", "6<|im_end|>\n"}},
		{"llama3", []string{"4<|eot_id|>", "6<|eot_id|>"}},
		{"phi-3-mini", []string{"4<|end|>\n", "6<|end|>\n"}},
	} {
		t.Run(c.model, func(t *testing.T) {
			tmpl := loadTestTemplate(t, specs[c.model])
			conv := chatCase(t, "system-multi-turn")
			text, spans, err := tmpl.AssistantSpans(Request{Messages: conv.Messages})
			if err != nil {
				t.Fatal(err)
			}
			if want := *refs[c.model].Renders["system-multi-turn/nogen"].Output; text != want {
				t.Fatalf("text = %q, want @huggingface/jinja's %q", text, want)
			}
			if len(spans) != len(c.want) {
				t.Fatalf("%d spans, want %d", len(spans), len(c.want))
			}
			for i, s := range spans {
				if got := text[s.Start:s.End]; got != c.want[i] {
					t.Errorf("span %d = %q, want %q", i, got, c.want[i])
				}
			}
		})
	}
	// Qwen3 writes an empty <think></think> block before the reply of the
	// last turn only (hand-read from its template).
	tmpl := loadTestTemplate(t, specs["qwen3"])
	conv := chatCase(t, "chat")
	conv.Messages = append(conv.Messages, Message{Role: "assistant", Content: "Sure."})
	text, spans, err := tmpl.AssistantSpans(Request{Messages: conv.Messages})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"I'm doing great. How can I help you today?<|im_end|>\n", "<think>\n\n</think>\n\nSure.<|im_end|>\n"}
	for i, s := range spans {
		if i >= len(want) || text[s.Start:s.End] != want[i] {
			t.Errorf("qwen3 span %d = %q, want %q", i, text[s.Start:s.End], want)
		}
	}
	if len(spans) != len(want) || spans[1].End != len(text) {
		t.Errorf("qwen3 spans %v of %q, want 2, the last ending the text", spans, text)
	}
	// Qwen3 drops the reasoning of earlier turns: refused, not guessed.
	conv = chatCase(t, "thinking")
	conv.Messages = append(conv.Messages, Message{Role: "assistant", Content: "No, 21 = 3 × 7."})
	if _, _, err := tmpl.AssistantSpans(Request{Messages: conv.Messages}); !errors.Is(err, format.ErrUnsupported) {
		t.Errorf("AssistantSpans(qwen3 thinking) = %v, want ErrUnsupported", err)
	}
}
