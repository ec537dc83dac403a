package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/chat"
	"github.com/lorakit/lorakit/format"
)

// maxMessagesSize bounds a messages file read from standard input.
const maxMessagesSize = 256 << 20

type templateOptions struct {
	messages   string
	generation bool
	vars       []string
	name       string
}

func newTemplateCmd() *cobra.Command {
	var o templateOptions
	cmd := &cobra.Command{
		Use:   "template SRC --messages F.json [--generation-prompt] [--var KEY=VALUE]...",
		Short: "Render a model's chat template for a conversation",
		Long: `Render the chat template of SRC — a Hugging Face model directory, a
tokenizer_config.json, a .jinja file or a GGUF (tokenizer.chat_template) — for
the conversation in F.json, exactly as transformers' apply_chat_template does,
and print the prompt as it is (no newline is added).

F.json ("-": standard input) is a list of messages {"role": ..., "content": ...} (extra keys such
as tool_calls are handed to the template too), or an object
{"messages": [...], "tools": [...]} whose tools the template sees as "tools".
The template also sees bos_token and eos_token from the tokenizer's config,
add_generation_prompt (--generation-prompt), and every --var KEY=VALUE
(VALUE is read as JSON when it is JSON — true, 3, "x", [...] — else as text;
for example --var enable_thinking=false for Qwen3).

A template that raises (raise_exception, e.g. Gemma's "System role not
supported") exits 1 with its message.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTemplate(cmd.OutOrStdout(), cmd.InOrStdin(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.messages, "messages", "", "JSON file with the conversation (required)")
	f.BoolVar(&o.generation, "generation-prompt", false, "end with the opening of an assistant turn (add_generation_prompt)")
	f.StringArrayVar(&o.vars, "var", nil, "template variable KEY=VALUE (repeatable)")
	f.StringVar(&o.name, "name", "", `named template ("" = default, or "tool_use" when tools are given and the tokenizer has it)`)
	_ = cmd.MarkFlagRequired("messages")
	return cmd
}

func runTemplate(stdout io.Writer, stdin io.Reader, src string, o templateOptions) error {
	vars := make(map[string]any, len(o.vars))
	for _, kv := range o.vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageError{fmt.Errorf("--var %q: want KEY=VALUE", kv)}
		}
		vars[k] = chat.VarValue(v)
	}
	var data []byte
	var err error
	if o.messages == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, maxMessagesSize+1))
		if err == nil && len(data) > maxMessagesSize {
			err = fmt.Errorf("standard input: more than %d bytes of messages", maxMessagesSize)
		}
		o.messages = "standard input"
	} else {
		data, err = os.ReadFile(o.messages)
	}
	if err != nil {
		return err
	}
	conv, err := chat.ParseConversation(data)
	if err != nil {
		return fmt.Errorf("%s: %w", o.messages, err)
	}
	t, err := loadTemplate(src, o.name, len(conv.Tools) > 0)
	if err != nil {
		return err
	}
	out, err := t.Render(chat.Request{Messages: conv.Messages, Tools: conv.Tools, AddGenerationPrompt: o.generation, Vars: vars})
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, out)
	return err
}

// loadTemplate loads the named template of src; with tools and no name it
// takes the tokenizer's "tool_use" template when there is one, as
// transformers does.
func loadTemplate(src, name string, tools bool) (*chat.Template, error) {
	if name == "" && tools {
		t, err := chat.Load(src, chat.ToolUse)
		if !errors.Is(err, format.ErrNotFound) {
			return t, err
		}
	}
	return chat.Load(src, name)
}
