package chat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// gemmaRef returns Gemma 2's reference render of a case of cases.json.
func gemmaRef(t *testing.T, key string) string {
	t.Helper()
	var refs map[string]reference
	readJSON(t, "testdata/renders.json", &refs)
	r := refs["gemma-2"].Renders[key]
	if r.Output == nil {
		t.Fatalf("renders.json has no output for gemma-2 %s", key)
	}
	return *r.Output
}

func chatCase(t *testing.T, name string) *Conversation {
	t.Helper()
	var cases map[string]testCase
	readJSON(t, "testdata/cases.json", &cases)
	conv, err := ParseConversation(cases[name].Messages)
	if err != nil {
		t.Fatal(err)
	}
	return conv
}

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadSources loads Gemma 2's template from each kind of source Load
// reads and checks every one renders @huggingface/jinja's output.
func TestLoadSources(t *testing.T) {
	dir := testshared.Path(t, "data/tokenizers/gemma-2-9b-it-configs")
	cfg, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	gemma, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	// A directory whose chat_template.jinja overrides tokenizer_config.json's.
	override := filepath.Join(tmp, "override")
	write(t, override, "tokenizer_config.json", strings.Replace(string(cfg), "<start_of_turn>", "<wrong>", 1))
	write(t, override, "chat_template.jinja", gemma.Source)
	// A list of named templates.
	named := write(t, filepath.Join(tmp, "named"), "tokenizer_config.json",
		`{"bos_token": {"content": "<bos>", "lstrip": false}, "eos_token": "<eos>", "chat_template": [`+
			`{"name": "default", "template": `+quoteJSON(gemma.Source)+`},`+
			`{"name": "tool_use", "template": "TOOLS {{ tools | length }}"}]}`)
	// A .jinja file beside a tokenizer_config.json whose template is absent.
	bare := filepath.Join(tmp, "bare")
	write(t, bare, "tokenizer_config.json", `{"bos_token": "<bos>", "eos_token": "<eos>"}`)
	jinjaFile := write(t, bare, "gemma.jinja", gemma.Source)

	want := gemmaRef(t, "chat/gen")
	for _, c := range []struct{ name, path string }{
		{"hf dir", dir},
		{"tokenizer_config.json", filepath.Join(dir, "tokenizer_config.json")},
		{"chat_template.jinja wins", override},
		{"named list, default", named},
		{"jinja file", jinjaFile},
		{"gguf (@huggingface/gguf)", filepath.Join("testdata", "gemma2-template.gguf")},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmpl, err := Load(c.path, "")
			if err != nil {
				t.Fatalf("Load(%s) = %v", c.path, err)
			}
			if tmpl.BOS != "<bos>" || tmpl.EOS != "<eos>" {
				t.Errorf("Load(%s) tokens %q %q, want <bos> <eos>", c.path, tmpl.BOS, tmpl.EOS)
			}
			got, err := tmpl.Render(Request{Messages: chatCase(t, "chat").Messages, AddGenerationPrompt: true})
			if err != nil || got != want {
				t.Errorf("Render = %q, %v; want %q", got, err, want)
			}
			_, err = tmpl.Render(Request{Messages: chatCase(t, "system").Messages})
			var re *RaiseError
			if !errors.As(err, &re) || re.Message != "System role not supported" {
				t.Errorf("Render(system) = %v, want raise_exception(System role not supported)", err)
			}
		})
	}

	tool, err := Load(named, ToolUse)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tool.Render(Request{Tools: []json.RawMessage{[]byte(`{}`), []byte(`{}`)}}); got != "TOOLS 2" || err != nil {
		t.Errorf("tool_use template = %q, %v; want TOOLS 2", got, err)
	}
}

func TestLoadErrors(t *testing.T) {
	tmp := t.TempDir()
	badTemplate := write(t, tmp, "bad.jinja", "line one\n{% if messages %}\n{{ messages[0] }}\n")
	badJSON := write(t, tmp, "bad/tokenizer_config.json", "{\n  \"chat_template\": \"x\",\n  oops\n}")
	notTemplate := write(t, tmp, "num/tokenizer_config.json", `{"chat_template": 3}`)
	noTemplate := write(t, tmp, "none/tokenizer_config.json", `{"bos_token": "<s>"}`)
	named := write(t, tmp, "named/tokenizer_config.json", `{"chat_template": [{"name": "default", "template": "x"}]}`)
	for _, c := range []struct {
		name, path, tmpl string
		want             error
		mention          string
	}{
		{"missing file", filepath.Join(tmp, "nope.jinja"), "", format.ErrNotFound, "nope.jinja"},
		{"no template", filepath.Dir(noTemplate), "", format.ErrNotFound, "no chat template"},
		{"no such name", filepath.Dir(named), "other", format.ErrNotFound, "other"},
		{"does not parse", badTemplate, "", format.ErrFormat, "bad.jinja"},
		{"bad json", badJSON, "", format.ErrFormat, "line 3, column 3"},
		{"not a template", notTemplate, "", format.ErrFormat, "neither a string nor a list"},
		{"named in a jinja file", badTemplate, "tool_use", format.ErrNotFound, "tool_use"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.path, c.tmpl)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.mention) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Load(%s, %q) = %v, want one line wrapping %v and naming %q", c.path, c.tmpl, err, c.want, c.mention)
			}
		})
	}
	if dir := testshared.Find(); dir != "" {
		_, err := Load(filepath.Join(dir, "data/tokenizers/deepseek-coder-1.3b-instruct"), "")
		if !errors.Is(err, format.ErrNotFound) {
			t.Errorf("Load(deepseek-coder dir without a template) = %v, want ErrNotFound", err)
		}
	}
}

func quoteJSON(s string) string {
	var sb strings.Builder
	(&jsonOpts{}).quote(&sb, s)
	return sb.String()
}
