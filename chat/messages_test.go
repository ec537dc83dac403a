package chat

import (
	"errors"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

func TestParseConversation(t *testing.T) {
	for _, c := range []struct {
		name, in string
		msgs     int
		tools    int
	}{
		{"list", `[{"role": "user", "content": "hi"}]`, 1, 0},
		{"null content and tool_calls", `[{"role": "assistant", "content": null, "tool_calls": []}]`, 1, 0},
		{"content parts", `[{"role": "user", "content": [{"type": "text", "text": "hi"}]}]`, 1, 0},
		{"request object", `{"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]}`, 1, 1},
		{"empty list", `[]`, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			conv, err := ParseConversation([]byte(c.in))
			if err != nil || len(conv.Messages) != c.msgs || len(conv.Tools) != c.tools {
				t.Fatalf("ParseConversation(%s) = %+v, %v; want %d messages, %d tools", c.in, conv, err, c.msgs, c.tools)
			}
		})
	}
}

func TestParseConversationErrors(t *testing.T) {
	for _, c := range []struct{ name, in, place string }{
		{"syntax", "[\n  {\"role\": \"user\",\n   \"content\": \"hi\"}\n  {\"role\": 1}\n]", "line 4, column 3"},
		{"truncated", `[{"role": "user"`, "invalid JSON"},
		{"not a list", `"hello"`, "not a list"},
		{"object without messages", `{"role": "user", "content": "hi"}`, `"messages"`},
		{"item not an object", `[{"role": "user", "content": "a"}, "b"]`, "messages[1]"},
		{"no role", `[{"content": "a"}]`, `messages[0]: no "role"`},
		{"role not a string", `[{"role": 7, "content": "a"}]`, `messages[0]: "role" is not a string`},
		{"role null", `[{"role": null, "content": "a"}]`, `messages[0]: "role" is not a string`},
		{"no content", `[{"role": "user"}]`, `messages[0]: no "content"`},
		{"content a number", `[{"role": "user", "content": 3}]`, `messages[0]: "content" is not a string`},
		{"tool not an object", `{"messages": [], "tools": [1]}`, "tools[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConversation([]byte(c.in))
			if !errors.Is(err, format.ErrFormat) || !strings.Contains(err.Error(), c.place) {
				t.Errorf("ParseConversation(%s) = %v, want ErrFormat naming %q", c.in, err, c.place)
			}
		})
	}
}

// TestJSONDepth: a deeply nested value is refused, not a stack overflow.
func TestJSONDepth(t *testing.T) {
	deep := `[{"role": "user", "content": "x", "extra": ` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}]`
	conv, err := ParseConversation([]byte(deep))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Parse("t", "{{ messages[0].role }}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Render(Request{Messages: conv.Messages}); !errors.Is(err, format.ErrFormat) {
		t.Errorf("Render(5000-deep message) = %v, want ErrFormat", err)
	}
}

func TestRenderErrors(t *testing.T) {
	for _, src := range []string{"{{ nosuchfunction() }}", "{{ 1 | nosuchfilter }}"} {
		tmpl, err := Parse("t", src)
		if err != nil {
			t.Fatalf("Parse(%s) = %v", src, err)
		}
		if _, err := tmpl.Render(Request{}); !errors.Is(err, format.ErrFormat) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Render(%s) = %v, want a one-line ErrFormat", src, err)
		}
	}
}
