package data

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/chat"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/internal/testshared"
	"github.com/lorakit/lorakit/tokenizer"
)

const phiChat = `{"messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}, {"role": "user", "content": "And 3+3?"}, {"role": "assistant", "content": "It is 6."}]}`

// phi3 returns Phi-3's chat template (the model's tokenizer_config.json)
// and a tokenizer of llama.cpp's Phi-3 vocabulary, set up as transformers
// tokenizes a rendered chat (special tokens parsed, nothing added).
func phi3(t *testing.T) (*chat.Template, *tokenizer.Tokenizer) {
	t.Helper()
	tmpl, err := chat.Load(testshared.Path(t, "data/tokenizers/phi-3-mini"), "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := gguf.Open(testshared.Path(t, "data/llama.cpp-vocab/ggml-vocab-phi-3.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v, err := tokenizer.FromMetadata(r.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	tok.ParseSpecial, tok.AddBOS, tok.AddEOS = true, false, false
	return tmpl, tok
}

// TestBuildChat: with Phi-3's real template and vocabulary, the loss covers
// exactly the tokens of the two replies and the text closing their turns
// ("<|end|>\n", and the eos_token the template writes after the last).
func TestBuildChat(t *testing.T) {
	tmpl, tok := phi3(t)
	chats, err := ReadChat(strings.NewReader("\n"+phiChat+"\n"), "chat.jsonl")
	if err != nil || len(chats) != 1 || chats[0].Line != 2 {
		t.Fatalf("ReadChat = %+v, %v", chats, err)
	}
	b := Builder{Encode: tok.Encode, BOS: -1, EOS: -1, Seq: 512}
	ex, st, err := b.BuildChat(chats, tmpl, "chat.jsonl")
	if err != nil || st.Examples != 1 {
		t.Fatalf("BuildChat = %+v, %v", st, err)
	}
	e := ex[0]
	text := "<|system|>\nYou are terse.<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n4<|end|>\n<|user|>\nAnd 3+3?<|end|>\n<|assistant|>\nIt is 6.<|end|>\n<|endoftext|>"
	if got := tok.Encode(text); !slices.Equal(e.Tokens, got) {
		t.Fatalf("tokens %v, want those of the render %q: %v", e.Tokens, text, got)
	}
	// The learned runs, each decoded with its special tokens.
	dec := *tok
	dec.DecodeSpecial = true
	var runs []string
	for i := 0; i < len(e.Tokens); i++ {
		if !e.Loss[i] {
			continue
		}
		j := i
		for j < len(e.Tokens) && e.Loss[j] {
			j++
		}
		runs = append(runs, dec.Decode(e.Tokens[i:j]))
		i = j
	}
	// Phi-3's tokenizer.json marks <|end|> rstrip: the newline after it
	// is absorbed into the special token, as Hugging Face does.
	want := []string{"4<|end|>", "It is 6.<|end|><|endoftext|>"}
	if len(runs) != len(want) {
		t.Fatalf("loss runs %q, want %q", runs, want)
	}
	for i := range want {
		// llama.cpp's SentencePiece rule puts a space before text that
		// follows a special token; that is the tokenizer's, not the spans'.
		if got := strings.ReplaceAll(strings.TrimPrefix(runs[i], " "), "|> ", "|>"); got != want[i] {
			t.Errorf("loss run %d = %q, want %q", i, runs[i], want[i])
		}
	}
	if !e.Loss[e.Prompt] || e.Prompt < 1 {
		t.Errorf("Prompt = %d is not the first learned token", e.Prompt)
	}
	batch := MakeBatch(ex, []int{0}, 0)
	n := 0
	for _, l := range e.Loss[1:] {
		if l {
			n++
		}
	}
	if batch.LossTokens() != n {
		t.Errorf("batch has %d loss positions, the example marks %d", batch.LossTokens(), n)
	}
}

func TestDetectChat(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, text, want string }{
		{"chat.jsonl", phiChat + "\n", FormatChat},
		{"pairs.jsonl", `{"prompt": "a", "completion": "b"}` + "\n", FormatJSONL},
	} {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := Detect(p); err != nil || got != c.want {
			t.Errorf("Detect(%s) = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

func TestBuildChatErrors(t *testing.T) {
	tmpl, tok := phi3(t)
	for _, c := range []struct {
		name, data string
		line       int
		want       error
	}{
		{"not json", "{\"messages\": [\n", 1, format.ErrFormat},
		{"no assistant", "\n" + `{"messages": [{"role": "user", "content": "hi"}]}`, 2, format.ErrFormat},
		{"bad message", `{"messages": [{"role": "user"}]}`, 1, format.ErrFormat},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadChat(strings.NewReader(c.data), "chat.jsonl")
			var le *LineError
			if !errors.As(err, &le) || le.Line != c.line || !errors.Is(err, c.want) {
				t.Errorf("ReadChat(%q) = %v, want line %d wrapping %v", c.data, err, c.line, c.want)
			}
		})
	}
	chats, err := ReadChat(strings.NewReader(phiChat), "chat.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	b := Builder{Encode: tok.Encode, BOS: -1, EOS: -1, Seq: 8, Policy: Refuse}
	if _, _, err := b.BuildChat(chats, tmpl, "chat.jsonl"); !errors.Is(err, format.ErrShape) {
		t.Errorf("BuildChat(too long, Refuse) = %v, want ErrShape", err)
	}
	b.Policy = Truncate
	if _, st, err := b.BuildChat(chats, tmpl, "chat.jsonl"); !errors.Is(err, format.ErrShape) || st.Skipped != 1 {
		t.Errorf("BuildChat(no assistant token within 9) = %+v, %v; want skipped, ErrShape", st, err)
	}
}
