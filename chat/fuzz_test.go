package chat

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzTemplate: any template source parses or fails with an error, and any
// that parses renders a conversation or fails with an error: never a panic
// or a hang. Seeded with the real templates of testdata.
func FuzzTemplate(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "templates", "*.jinja"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add(`{% for m in messages %}{{ m.content | tojson(indent=2) }}{% endfor %}{{ raise_exception('x') }}`)
	f.Add(`{{ messages[::-1] | map(attribute='role') | join(',') }}{% set ns = namespace(a=1) %}{{ ns.a }}`)
	conv, err := ParseConversation([]byte(`[{"role": "system", "content": " s "}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "a", "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]}]`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := Parse("fuzz", src)
		if err != nil {
			return
		}
		tmpl.BOS, tmpl.EOS = "<s>", "</s>"
		_, _ = tmpl.Render(Request{Messages: conv.Messages, AddGenerationPrompt: true})
	})
}

// FuzzParseConversation: any bytes give a conversation or an error.
func FuzzParseConversation(f *testing.F) {
	f.Add([]byte(`[{"role": "user", "content": "hi"}]`))
	f.Add([]byte(`{"messages": [{"role": "assistant", "content": null, "tool_calls": []}], "tools": [{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		conv, err := ParseConversation(data)
		if err != nil {
			return
		}
		tmpl, err := Parse("fuzz", "{% for m in messages %}{{ m | tojson }}{% endfor %}")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = tmpl.Render(Request{Messages: conv.Messages, Tools: conv.Tools})
	})
}
