package chat

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ardanlabs/jinja"

	"github.com/lorakit/lorakit/format"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string // "system", "user", "assistant", "tool", ...
	Content string // the text; "" when the JSON content was null or a list of parts

	// Raw is the whole JSON object the message was read from (tool_calls,
	// content parts, reasoning_content, ... kept in their key order). When
	// nil, the template sees just {"role": Role, "content": Content}.
	Raw json.RawMessage
}

// Conversation is what a messages file holds: the turns and, optionally,
// the tool definitions (JSON objects) offered to the model.
type Conversation struct {
	Messages []Message
	Tools    []json.RawMessage
}

// ParseConversation reads a messages file: either a JSON list of messages,
// or an object {"messages": [...], "tools": [...]} (the shape of an
// OpenAI-style request). Every message must be an object with a string
// "role" and a "content" that is a string, null or a list (of content
// parts). Errors wrap format.ErrFormat and name the place: the line and
// column of a JSON syntax error, or the index of the offending message.
func ParseConversation(data []byte) (*Conversation, error) {
	if err := json.Unmarshal(data, new(any)); err != nil {
		return nil, jsonSyntaxError(data, err)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	var conv Conversation
	var list []json.RawMessage
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("not a list of messages: %w", format.ErrFormat)
		}
	case len(trimmed) > 0 && trimmed[0] == '{':
		var obj struct {
			Messages *[]json.RawMessage `json:"messages"`
			Tools    *[]json.RawMessage `json:"tools"`
		}
		if err := json.Unmarshal(data, &obj); err != nil || obj.Messages == nil {
			return nil, fmt.Errorf("an object must hold a \"messages\" list (and optionally a \"tools\" list): %w", format.ErrFormat)
		}
		list = *obj.Messages
		if obj.Tools != nil {
			for i, t := range *obj.Tools {
				if b := bytes.TrimLeft(t, " \t\r\n"); len(b) == 0 || b[0] != '{' {
					return nil, fmt.Errorf("tools[%d]: not a JSON object: %w", i, format.ErrFormat)
				}
			}
			conv.Tools = *obj.Tools
		}
	default:
		return nil, fmt.Errorf("not a list of {role, content} messages: %w", format.ErrFormat)
	}
	for i, raw := range list {
		m, err := parseMessage(raw)
		if err != nil {
			return nil, fmt.Errorf("messages[%d]: %w", i, err)
		}
		conv.Messages = append(conv.Messages, m)
	}
	return &conv, nil
}

func parseMessage(raw json.RawMessage) (Message, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Message{}, fmt.Errorf("not a {role, content} object: %w", format.ErrFormat)
	}
	m := Message{Raw: raw}
	r, ok := fields["role"]
	if !ok {
		return Message{}, fmt.Errorf("no \"role\": %w", format.ErrFormat)
	}
	if b := bytes.TrimLeft(r, " \t\r\n"); b[0] != '"' || json.Unmarshal(r, &m.Role) != nil {
		return Message{}, fmt.Errorf("\"role\" is not a string: %w", format.ErrFormat)
	}
	c, ok := fields["content"]
	if !ok {
		return Message{}, fmt.Errorf("no \"content\": %w", format.ErrFormat)
	}
	switch b := bytes.TrimLeft(c, " \t\r\n"); {
	case b[0] == '"':
		_ = json.Unmarshal(c, &m.Content)
	case b[0] == '[' || bytes.Equal(b, []byte("null")):
	default:
		return Message{}, fmt.Errorf("\"content\" is not a string, a list of parts or null: %w", format.ErrFormat)
	}
	return m, nil
}

// value is the message as the template sees it.
func (m Message) value() (jinja.Value, error) {
	if m.Raw != nil {
		return jsonValue(m.Raw)
	}
	d := jinja.NewDict()
	d.AsDict().Set("role", jinja.NewString(m.Role))
	d.AsDict().Set("content", jinja.NewString(m.Content))
	return d, nil
}

// jsonSyntaxError turns a JSON decoding error into one naming line and column.
func jsonSyntaxError(data []byte, err error) error {
	off := int64(-1)
	if se, ok := err.(*json.SyntaxError); ok {
		off = se.Offset
	}
	if off < 0 {
		return fmt.Errorf("invalid JSON (%v): %w", err, format.ErrFormat)
	}
	line, col := lineCol(data, int(off)-1) // Offset counts the offending byte

	return fmt.Errorf("line %d, column %d: invalid JSON (%v): %w", line, col, err, format.ErrFormat)
}

// lineCol gives the 1-based line and column of byte offset off in data.
func lineCol(data []byte, off int) (line, col int) {
	off = max(0, min(off, len(data)))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}
