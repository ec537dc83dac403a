package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
)

// Default is the name of the template Load picks when none is asked for.
const Default = "default"

// ToolUse is the name of the template transformers picks, when a tokenizer
// has one by that name, for a conversation that offers tools.
const ToolUse = "tool_use"

// maxConfigSize bounds the JSON and Jinja files Load reads.
const maxConfigSize = 64 << 20

// Load reads a model's chat template and its bos/eos tokens from path:
//
//   - a Hugging Face directory: chat_template.jinja (which transformers
//     prefers), else tokenizer_config.json's "chat_template", else
//     chat_template.json; named templates also from
//     additional_chat_templates/NAME.jinja;
//   - a tokenizer_config.json (or chat_template.json) file;
//   - a .jinja (or any text) file holding the template itself, its tokens
//     from a tokenizer_config.json beside it when there is one;
//   - a GGUF file: tokenizer.chat_template (tokenizer.chat_template.NAME for
//     named ones), bos/eos from tokenizer.ggml.bos_token_id/eos_token_id.
//
// "chat_template" may be a string or a list of {"name", "template"}. name
// selects a named template; "" means Default (a lone unnamed template is
// the default). A missing template wraps format.ErrNotFound; a malformed
// file or template wraps format.ErrFormat.
func Load(path, name string) (*Template, error) {
	if name == "" {
		name = Default
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", notFound(err))
	}
	switch {
	case st.IsDir():
		return loadDir(path, name)
	case gguf.IsFile(path):
		return loadGGUF(path, name)
	case strings.HasSuffix(path, ".json"):
		return loadJSON(path, name)
	case name != Default:
		return nil, fmt.Errorf("chat: %s holds one template; there is no template %q: %w", path, name, format.ErrNotFound)
	default:
		return loadJinja(path, name)
	}
}

func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", err, format.ErrNotFound)
	}
	return err
}

func loadDir(dir, name string) (*Template, error) {
	cfgPath := filepath.Join(dir, "tokenizer_config.json")
	jinjaPath := filepath.Join(dir, "chat_template.jinja")
	if name != Default {
		jinjaPath = filepath.Join(dir, "additional_chat_templates", name+".jinja")
	}
	if exists(jinjaPath) {
		return loadJinja(jinjaPath, name)
	}
	if exists(cfgPath) {
		t, err := loadJSON(cfgPath, name)
		if err == nil || !errors.Is(err, format.ErrNotFound) {
			return t, err
		}
	}
	if p := filepath.Join(dir, "chat_template.json"); exists(p) {
		return loadJSON(p, name)
	}
	return nil, fmt.Errorf("chat: %s: no chat template %q (looked for chat_template.jinja, tokenizer_config.json's chat_template, chat_template.json): %w",
		dir, name, format.ErrNotFound)
}

func exists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func readSmall(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", notFound(err))
	}
	if st.Size() > maxConfigSize {
		return nil, fmt.Errorf("chat: %s: %d bytes is too large for a template or tokenizer config: %w", path, st.Size(), format.ErrFormat)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	return b, nil
}

// loadJinja reads a template file; its tokens come from a
// tokenizer_config.json beside it, if any.
func loadJinja(path, name string) (*Template, error) {
	b, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	label := path
	if name != Default {
		label += ":" + name
	}
	t, err := Parse(label, string(b))
	if err != nil {
		return nil, err
	}
	if cfg := filepath.Join(filepath.Dir(path), "tokenizer_config.json"); exists(cfg) {
		var c tokenizerConfig
		if b, err := readSmall(cfg); err == nil && json.Unmarshal(b, &c) == nil {
			t.BOS, t.EOS = c.tokens(filepath.Dir(path))
		}
	}
	return t, nil
}

// tokenizerConfig is the part of tokenizer_config.json (or
// chat_template.json) that Load reads.
type tokenizerConfig struct {
	ChatTemplate json.RawMessage `json:"chat_template"`
	BOS          json.RawMessage `json:"bos_token"`
	EOS          json.RawMessage `json:"eos_token"`
}

// tokens returns bos_token and eos_token, each a string or an AddedToken
// object {"content": ...}; absent ones are taken from special_tokens_map.json
// in dir.
func (c *tokenizerConfig) tokens(dir string) (bos, eos string) {
	bos, eos = tokenText(c.BOS), tokenText(c.EOS)
	if bos != "" && eos != "" {
		return bos, eos
	}
	var m tokenizerConfig
	if b, err := readSmall(filepath.Join(dir, "special_tokens_map.json")); err == nil && json.Unmarshal(b, &m) == nil {
		if bos == "" {
			bos = tokenText(m.BOS)
		}
		if eos == "" {
			eos = tokenText(m.EOS)
		}
	}
	return bos, eos
}

func tokenText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Content
	}
	return ""
}

func loadJSON(path, name string) (*Template, error) {
	b, err := readSmall(path)
	if err != nil {
		return nil, err
	}
	var c tokenizerConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("chat: %s: %w", path, jsonSyntaxError(b, err))
	}
	src, err := pickTemplate(c.ChatTemplate, name)
	if err != nil {
		return nil, fmt.Errorf("chat: %s: %w", path, err)
	}
	t, err := parseNamed(path, name, src)
	if err != nil {
		return nil, err
	}
	t.BOS, t.EOS = c.tokens(filepath.Dir(path))
	return t, nil
}

// parseNamed parses the template called name read from path, labelled
// PATH or PATH:NAME in its errors.
func parseNamed(path, name, src string) (*Template, error) {
	label := path
	if name != Default {
		label += ":" + name
	}
	return Parse(label, src)
}

// pickTemplate returns the template called name from a "chat_template"
// value: a string (the default template) or a list of {name, template}.
func pickTemplate(raw json.RawMessage, name string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", fmt.Errorf("no \"chat_template\": %w", format.ErrNotFound)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if name != Default {
			return "", fmt.Errorf("\"chat_template\" is a single template; there is no template %q: %w", name, format.ErrNotFound)
		}
		return s, nil
	}
	var list []struct {
		Name     *string `json:"name"`
		Template *string `json:"template"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", fmt.Errorf("\"chat_template\" is neither a string nor a list of {name, template}: %w", format.ErrFormat)
	}
	var names []string
	for i, e := range list {
		if e.Name == nil || e.Template == nil {
			return "", fmt.Errorf("chat_template[%d]: not a {name, template} object: %w", i, format.ErrFormat)
		}
		if *e.Name == name {
			return *e.Template, nil
		}
		names = append(names, *e.Name)
	}
	return "", fmt.Errorf("no chat template %q (there are %s): %w", name, strings.Join(names, ", "), format.ErrNotFound)
}

// loadGGUF reads tokenizer.chat_template[.NAME] and the bos/eos token texts.
func loadGGUF(path, name string) (*Template, error) {
	r, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	defer r.Close()
	md := r.Metadata()
	key := "tokenizer.chat_template"
	if name != Default {
		key += "." + name
	}
	v, ok := md.Get(key)
	if !ok {
		return nil, fmt.Errorf("chat: %s: no %s: %w", path, key, format.ErrNotFound)
	}
	src, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("chat: %s: %s is not a string: %w", path, key, format.ErrFormat)
	}
	t, err := parseNamed(path, name, src)
	if err != nil {
		return nil, err
	}
	tokens, _ := md.Get("tokenizer.ggml.tokens")
	list, _ := tokens.([]string)
	text := func(k string) string {
		id, ok := md.Int(k)
		if !ok || id < 0 || id >= int64(len(list)) {
			return ""
		}
		return list[id]
	}
	t.BOS, t.EOS = text("tokenizer.ggml.bos_token_id"), text("tokenizer.ggml.eos_token_id")
	return t, nil
}
