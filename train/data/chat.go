package data

import (
	"fmt"
	"io"
	"os"

	"github.com/lorakit/lorakit/chat"
	"github.com/lorakit/lorakit/format"
)

// FormatChat names chat data: JSONL with one conversation per line,
// {"messages": [{"role": ..., "content": ...}, ...]} (optionally "tools").
const FormatChat = "chat"

// Chat is one conversation of a chat data file.
type Chat struct {
	chat.Conversation
	Line int
}

// LoadChat reads the chat data file at path.
func LoadChat(path string) ([]Chat, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return ReadChat(f, path)
}

// ReadChat reads chat JSONL (name is the file, for errors): each non-blank
// line a conversation as chat.ParseConversation reads it, with at least
// one assistant message to learn.
func ReadChat(r io.Reader, name string) ([]Chat, error) {
	var out []Chat
	err := scanLines(r, name, func(line []byte, n int) error {
		if isBlank(line) {
			return nil
		}
		conv, err := chat.ParseConversation(line)
		if err != nil {
			return &LineError{name, n, err}
		}
		assistant := false
		for _, m := range conv.Messages {
			assistant = assistant || m.Role == "assistant"
		}
		if !assistant {
			return &LineError{name, n, fmt.Errorf("no assistant message to learn: %w", format.ErrFormat)}
		}
		out = append(out, Chat{Conversation: *conv, Line: n})
		return nil
	})
	return out, err
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// BuildChat renders each conversation with the model's chat template and
// tokenizes it (b.Encode must parse special-token text, as transformers
// does for a rendered chat; BOS, EOS, Sep and CompletionPrefix are not used:
// the template writes its own). The loss covers the assistant turns only:
// each reply and the text that closes its turn (chat.AssistantSpans). A
// turn's tokens run from the first token where the whole text's tokens and
// those of the text before the turn differ, to the last token of the text
// up to the turn's end (one straddling either boundary is learned). Examples longer
// than b.Seq+1 tokens are truncated or refused per b.Policy; one left with
// no assistant token is skipped.
func (b Builder) BuildChat(chats []Chat, t *chat.Template, name string) ([]Example, Stats, error) {
	if err := b.check(); err != nil {
		return nil, Stats{}, err
	}
	var st Stats
	var out []Example
	for _, c := range chats {
		text, spans, err := t.AssistantSpans(chat.Request{Messages: c.Messages, Tools: c.Tools})
		if err != nil {
			return nil, st, &LineError{name, c.Line, err}
		}
		toks := b.Encode(text)
		loss := make([]bool, len(toks))
		for _, s := range spans {
			lo := agreeing(b.Encode(text[:s.Start]), toks)
			upTo := b.Encode(text[:s.End])
			hi := agreeing(upTo, toks)
			if hi < len(upTo) && hi < len(toks) {
				hi++ // a token straddles the turn's end
			}
			for i := lo; i < hi; i++ {
				loss[i] = true
			}
		}
		if len(toks) > b.Seq+1 {
			if b.Policy == Refuse {
				return nil, st, &LineError{name, c.Line, fmt.Errorf("%d tokens, longer than the context of %d (+1): %w", len(toks), b.Seq, format.ErrShape)}
			}
			toks, loss = toks[:b.Seq+1], loss[:b.Seq+1]
			st.Truncated++
		}
		first := 1 // nothing predicts the first token
		for first < len(loss) && !loss[first] {
			first++
		}
		if first >= len(toks) {
			st.Skipped++
			continue
		}
		out = append(out, Example{Tokens: toks, Prompt: first, Line: c.Line, Loss: loss})
		st.Tokens += len(toks)
	}
	st.Examples = len(out)
	if len(out) == 0 {
		return nil, st, fmt.Errorf("data: %s: no conversation has an assistant token within the context of %d tokens (%d skipped): %w", name, b.Seq, st.Skipped, format.ErrShape)
	}
	return out, st, nil
}

// agreeing is how many leading tokens of prefix equal those of whole.
func agreeing(prefix, whole []int) int {
	n := 0
	for n < len(prefix) && n < len(whole) && prefix[n] == whole[n] {
		n++
	}
	return n
}
