package release

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/lorakit/lorakit/internal/testshared"
)

// TestOllamaTemplates renders the TEMPLATE lorakit writes for each real
// chat template with Go's text/template (as ollama does) and compares it
// with Hugging Face's jinja rendering of the same conversation
// (testdata/chat-render.json), less the BOS token llama.cpp adds itself.
func TestOllamaTemplates(t *testing.T) {
	tok := testshared.Path(t, "data/tokenizers")
	raw, err := os.ReadFile(filepath.Join("testdata", "chat-render.json"))
	if err != nil {
		t.Fatal(err)
	}
	var refs map[string]struct {
		BOS      string `json:"bos"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &refs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir, family string
		exact       bool // false: Llama 3.1 prints today's date in a system block ollama's format has no place for
	}{
		{"qwen2.5", "ChatML", true},
		{"qwen3", "ChatML", true},
		{"gemma-2-9b-it-configs", "Gemma", true},
		{"phi-3-mini", "Phi-3", true},
		{"llama3", "Llama 3", false},
		{"mistral-nemo", "", false}, // NeMo's <extra_id_1> format: left to the GGUF's own template
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			var cfg struct {
				ChatTemplate string `json:"chat_template"`
			}
			b, err := os.ReadFile(filepath.Join(tok, tc.dir, "tokenizer_config.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &cfg); err != nil {
				t.Fatal(err)
			}
			f := familyOf(cfg.ChatTemplate)
			if tc.family == "" {
				if f != nil {
					t.Errorf("familyOf = %s, want none", f.name)
				}
				return
			}
			if f == nil || f.name != tc.family {
				t.Fatalf("familyOf = %v, want %s", f, tc.family)
			}
			ref := refs[tc.dir]
			tmpl, err := template.New(tc.dir).Parse(f.template)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			if err := tmpl.Execute(&out, map[string]any{"Messages": ref.Messages}); err != nil {
				t.Fatal(err)
			}
			want := strings.TrimPrefix(ref.Text, ref.BOS)
			if !tc.exact {
				// Compare the turns only: from the first user turn on.
				user := "<|start_header_id|>user"
				want, out2 := want[strings.Index(want, user):], out.String()
				if !strings.HasSuffix(out2, want) {
					t.Errorf("TEMPLATE renders\n%q\nwhich does not end with jinja's turns\n%q", out2, want)
				}
				return
			}
			if out.String() != want {
				t.Errorf("TEMPLATE renders\n%q\njinja renders\n%q", out.String(), want)
			}
		})
	}
}
