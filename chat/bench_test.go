package chat

import "testing"

// BenchmarkRender renders Llama 3.2's template (the longest of testdata)
// for the tools conversation with the generation prompt.
func BenchmarkRender(b *testing.B) {
	var cases map[string]testCase
	specs := templateSpecs(b)
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
