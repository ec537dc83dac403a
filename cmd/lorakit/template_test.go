package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// chatTestdata reads a JSON file of chat/testdata (the conversations and
// @huggingface/jinja's renders of them; see chat/testdata/README.md).
func chatTestdata(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "chat", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// TestTemplateMatchesHuggingFaceJinja: `lorakit template` prints exactly
// @huggingface/jinja's render, from an HF directory, a .jinja file and a
// GGUF, with tools, --var and --generation-prompt.
func TestTemplateMatchesHuggingFaceJinja(t *testing.T) {
	var cases map[string]struct {
		Messages json.RawMessage `json:"messages"`
		Tools    json.RawMessage `json:"tools"`
	}
	var refs map[string]struct {
		Renders map[string]struct{ Output, Error *string } `json:"renders"`
	}
	chatTestdata(t, "cases.json", &cases)
	chatTestdata(t, "renders.json", &refs)
	tmp := t.TempDir()
	for _, c := range []struct {
		name, model, src, key string
		vars                  []string
	}{
		{"llama3 tools", "llama3", sharedPath(t, "data/tokenizers/llama3"), "tools/gen", []string{`date_string=26 Jul 2024`}},
		{"qwen3 no thinking", "qwen3", sharedPath(t, "data/tokenizers/qwen3/tokenizer_config.json"), "thinking-disabled/gen", []string{"enable_thinking=false"}},
		{"qwen2.5 multi-turn", "qwen2.5", sharedPath(t, "data/tokenizers/qwen2.5"), "system-multi-turn/nogen", nil},
		{"mistral jinja", "mistral-7b-instruct-v0.1", "../../chat/testdata/templates/mistral-7b-instruct-v0.1.jinja", "chat/nogen", []string{"bos_token=<s>", "eos_token=</s>"}},
		{"gemma gguf", "gemma-2", "../../chat/testdata/gemma2-template.gguf", "whitespace-unicode/gen", nil},
		{"gemma raises", "gemma-2", sharedPath(t, "data/tokenizers/gemma-2-9b-it-configs"), "system/gen", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cname, mode, _ := strings.Cut(c.key, "/")
			in := cases[cname]
			body := in.Messages
			if in.Tools != nil {
				body, _ = json.Marshal(map[string]json.RawMessage{"messages": in.Messages, "tools": in.Tools})
			}
			file := filepath.Join(tmp, c.name+".json")
			if err := os.WriteFile(file, body, 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"template", c.src, "--messages", file}
			if mode == "gen" {
				args = append(args, "--generation-prompt")
			}
			for _, v := range c.vars {
				args = append(args, "--var", v)
			}
			out, errs, code := lorakit(t, args...)
			want := refs[c.model].Renders[c.key]
			if want.Error != nil {
				if code != exitFail || errs != "lorakit: "+*want.Error+"\n" || out != "" {
					t.Errorf("lorakit %v = exit %d, stdout %q, stderr %q; want exit 1 with %q", args, code, out, errs, *want.Error)
				}
				return
			}
			if code != exitOK || out != *want.Output {
				t.Errorf("lorakit %v = exit %d (stderr %q)\n%q\nwant (@huggingface/jinja)\n%q", args, code, errs, out, *want.Output)
			}
		})
	}
}

func TestTemplateBadInput(t *testing.T) {
	tmp := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good.json", `[{"role": "user", "content": "hi"}]`)
	tmpl := file("ok.jinja", "{{ messages[0].content }}")
	bad := file("bad.jinja", "hello\n{% for m in messages %}\n{{ m.role }\n")
	for _, c := range []struct {
		name    string
		args    []string
		code    int
		mention []string
	}{
		{"template does not parse", []string{bad, "--messages", good}, exitFail, []string{"bad.jinja", "line 3"}},
		{"not a list", []string{tmpl, "--messages", file("str.json", `"hi"`)}, exitFail, []string{"str.json", "not a list"}},
		{"message without content", []string{tmpl, "--messages", file("nc.json", `[{"role": "user", "content": "a"}, {"role": "user"}]`)}, exitFail, []string{"nc.json", "messages[1]", "content"}},
		{"role not a string", []string{tmpl, "--messages", file("nr.json", `[{"role": null, "content": "a"}]`)}, exitFail, []string{"nr.json", "messages[0]", "role"}},
		{"json syntax", []string{tmpl, "--messages", file("syn.json", "[\n {\"role\": \"user\", \"content\": \"a\"}\n {}\n]")}, exitFail, []string{"syn.json", "line 3, column 2"}},
		{"missing messages file", []string{tmpl, "--messages", filepath.Join(tmp, "nope.json")}, exitFail, []string{"nope.json"}},
		{"no template", []string{tmp, "--messages", good}, exitFail, []string{tmp, "no chat template"}},
		{"bad --var", []string{tmpl, "--messages", good, "--var", "novalue"}, exitUsage, []string{"novalue"}},
		{"no --messages", []string{tmpl}, exitUsage, []string{"messages"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"template"}, c.args...)
			_, errs, code := lorakit(t, args...)
			first, _, _ := strings.Cut(errs, "\n")
			if code != c.code {
				t.Errorf("lorakit %v = exit %d, want %d (stderr %q)", args, code, c.code, errs)
			}
			for _, m := range c.mention {
				if !strings.Contains(first, m) {
					t.Errorf("lorakit %v: first stderr line %q does not name %q", args, first, m)
				}
			}
		})
	}
	// The template's own output is printed as is, with no newline added.
	out, errs, code := lorakit(t, "template", tmpl, "--messages", good)
	if code != exitOK || out != "hi" {
		t.Errorf("lorakit template = %q, exit %d (%s); want \"hi\"", out, code, errs)
	}
}

// TestTemplateToolUse: with tools and no --name, the tokenizer's "tool_use"
// template is used (as transformers picks it); --name chooses explicitly.
func TestTemplateToolUse(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"chat_template": [{"name": "default", "template": "D{{ messages | length }}"}, {"name": "tool_use", "template": "T{{ tools | length }}"}]}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	msgs := filepath.Join(dir, "m.json")
	withTools := filepath.Join(dir, "t.json")
	os.WriteFile(msgs, []byte(`[{"role": "user", "content": "hi"}]`), 0o644)
	os.WriteFile(withTools, []byte(`{"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]}`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{dir, "--messages", msgs}, "D1"},
		{[]string{dir, "--messages", withTools}, "T1"},
		{[]string{dir, "--messages", withTools, "--name", "default"}, "D1"},
	} {
		out, errs, code := lorakit(t, append([]string{"template"}, c.args...)...)
		if code != exitOK || out != c.want {
			t.Errorf("lorakit template %v = %q, exit %d (%s); want %q", c.args, out, code, errs, c.want)
		}
	}
}

// TestTemplateStdin: --messages - reads the conversation from standard input.
func TestTemplateStdin(t *testing.T) {
	tmpl := filepath.Join(t.TempDir(), "t.jinja")
	if err := os.WriteFile(tmpl, []byte("{{ messages[0].content }}!"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := newRootCmd()
	var out strings.Builder
	root.SetIn(strings.NewReader(`[{"role": "user", "content": "hi"}]`))
	root.SetOut(&out)
	root.SetArgs([]string{"template", tmpl, "--messages", "-"})
	if err := root.Execute(); err != nil || out.String() != "hi!" {
		t.Errorf("template --messages - = %q, %v; want \"hi!\"", out.String(), err)
	}
	root = newRootCmd()
	root.SetIn(strings.NewReader(`{"role": "user"}`))
	root.SetOut(&out)
	root.SetArgs([]string{"template", tmpl, "--messages", "-"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "standard input") {
		t.Errorf("template --messages - with bad input = %v, want an error naming standard input", err)
	}
}
