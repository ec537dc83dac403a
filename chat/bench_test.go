package chat

import "testing"

// BenchmarkRender renders Llama 3.2's template (the longest of testdata)
// for the tools conversation with the generation prompt.
func BenchmarkRender(b *testing.B) {
	var specs map[string]struct {
		Path string `json:"path"`
		BOS  string `json:"bos_token"`
		EOS  string `json:"eos_token"`
	}
	var cases map[string]testCase
	readJSON(b, "testdata/templates.json", &specs)
	readJSON(b, "testdata/cases.json", &cases)
	tmpl := loadTestTemplate(b, specs["llama3"])
	conv, err := ParseConversation(cases["tools"].Messages)
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Messages: conv.Messages, Tools: cases["tools"].Tools, AddGenerationPrompt: true}
	out, err := tmpl.Render(req)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(req); err != nil {
			b.Fatal(err)
		}
	}
}
