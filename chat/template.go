package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"

	"github.com/lorakit/lorakit/format"
)

// Template is a compiled chat template together with the special tokens a
// render hands to it.
type Template struct {
	Name   string // where it came from (the file; a named template adds ":name")
	Source string // the Jinja source
	BOS    string // bos_token, "" when the tokenizer has none
	EOS    string // eos_token, "" when the tokenizer has none

	// Now is the clock of strftime_now; nil means time.Now.
	Now func() time.Time

	tmpl *jinja.Template
}

// Request is what one render is given.
type Request struct {
	Messages []Message
	// Tools are tool definitions (JSON objects), handed to the template as
	// "tools" when there are any.
	Tools []json.RawMessage
	// AddGenerationPrompt asks the template to end with the opening of an
	// assistant turn.
	AddGenerationPrompt bool
	// Vars are further template variables (enable_thinking, date_string,
	// ...); json.RawMessage values are decoded as JSON, others converted as
	// jinja.FromGoValue does. They may override bos_token and eos_token.
	Vars map[string]any
}

// RaiseError is the error a template raises with raise_exception(message),
// as transformers' TemplateError (for example Gemma's "System role not
// supported").
type RaiseError struct {
	Template string // Template.Name
	Message  string
}

// Error returns the message the template raised.
func (e *RaiseError) Error() string { return e.Message }

// Parse compiles a chat template. name says where the source came from and
// appears in errors. A template that does not parse gives an error wrapping
// format.ErrFormat that names it and, where the engine knows it, the line.
func Parse(name, source string) (*Template, error) {
	var tmpl *jinja.Template
	err := safely(func() (err error) {
		tmpl, err = jinja.Compile(renameFilter(normalizeNewlines(source), "tojson", tojsonFilter))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("chat template %s does not parse: %s: %w", name, oneLine(err.Error()), format.ErrFormat)
	}
	return &Template{Name: name, Source: source, tmpl: tmpl}, nil
}

// Render renders the conversation as transformers' apply_chat_template does
// (tokenize=False): the template sees messages, add_generation_prompt,
// bos_token, eos_token (when the tokenizer has them), tools (when given),
// raise_exception, strftime_now and the request's Vars. A raise_exception
// in the template returns a *RaiseError; any other failure of the template
// (an undefined function, a filter the engine lacks) an error wrapping
// format.ErrFormat.
func (t *Template) Render(req Request) (string, error) {
	data := make(map[string]jinja.Value, 8+len(req.Vars))
	msgs := make([]jinja.Value, len(req.Messages))
	for i, m := range req.Messages {
		v, err := m.value()
		if err != nil {
			return "", fmt.Errorf("chat: messages[%d]: %v: %w", i, err, format.ErrFormat)
		}
		msgs[i] = v
	}
	data["messages"] = jinja.NewList(msgs)
	data["add_generation_prompt"] = jinja.NewBool(req.AddGenerationPrompt)
	if t.BOS != "" {
		data["bos_token"] = jinja.NewString(t.BOS)
	}
	if t.EOS != "" {
		data["eos_token"] = jinja.NewString(t.EOS)
	}
	if len(req.Tools) > 0 {
		tools := make([]jinja.Value, len(req.Tools))
		for i, raw := range req.Tools {
			v, err := jsonValue(raw)
			if err != nil {
				return "", fmt.Errorf("chat: tools[%d]: %v: %w", i, err, format.ErrFormat)
			}
			tools[i] = v
		}
		data["tools"] = jinja.NewList(tools)
	}
	for k, x := range req.Vars {
		v, err := goValue(x)
		if err != nil {
			return "", fmt.Errorf("chat: variable %s: %v: %w", k, err, format.ErrFormat)
		}
		data[k] = v
	}

	var raised *RaiseError
	data["raise_exception"] = jinja.NewCallable("raise_exception", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		msg := ""
		if len(args) > 0 {
			msg = display(args[0])
		}
		raised = &RaiseError{Template: t.Name, Message: msg}
		return jinja.Undefined(), raised
	})
	now := t.Now
	if now == nil {
		now = time.Now
	}
	data["strftime_now"] = jinja.NewCallable("strftime_now", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		if len(args) != 1 || !args[0].IsString() {
			return jinja.Undefined(), fmt.Errorf("strftime_now takes one format string")
		}
		return jinja.NewString(strftime(now(), args[0].AsString())), nil
	})
	data[tojsonFilter] = jinja.NewCallable("tojson", tojson)

	var out string
	err := safely(func() (err error) {
		out, err = t.tmpl.RenderValues(data)
		return err
	})
	if raised != nil {
		return "", raised
	}
	if err != nil {
		var re *RaiseError
		if errors.As(err, &re) {
			return "", re
		}
		return "", fmt.Errorf("chat template %s fails: %s: %w", t.Name, oneLine(err.Error()), format.ErrFormat)
	}
	return out, nil
}

// normalizeNewlines does to a template source what Jinja's lexer does with
// its defaults (newline_sequence "\n", keep_trailing_newline False): every
// "\r\n", "\r" and "\n" becomes "\n", and one newline at the very end is
// dropped.
func normalizeNewlines(src string) string {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	return strings.TrimSuffix(src, "\n")
}

// safely runs f, turning a panic of the engine (a bug it has on some
// input) into an error, so no template or conversation can crash lorakit.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("jinja engine failed: %v", r)
		}
	}()
	return f()
}

// display is how a value prints in a template: strings as they are.
func display(v jinja.Value) string {
	if v.IsString() {
		return v.AsString()
	}
	return v.String()
}

var spaceRun = regexp.MustCompile(`\s*\n\s*`)

// oneLine folds an engine message onto one line.
func oneLine(s string) string { return spaceRun.ReplaceAllString(s, " ") }

// VarValue parses the VALUE of a --var KEY=VALUE: JSON when it is JSON
// (true, 3, "text", [..], {..}), else the text itself.
func VarValue(s string) any {
	if s == "" {
		return ""
	}
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return s
}
