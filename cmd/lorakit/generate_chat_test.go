package main

import (
	"slices"
	"testing"

	"github.com/lorakit/lorakit/model/embedded"
	"github.com/lorakit/lorakit/tokenizer"
)

// TestGenerateChat: generate --chat with TinyLlama's template on the
// embedded model (same SentencePiece family) tokenizes @huggingface/jinja's
// render of the conversation with special-token parsing ("</s>" becomes the
// EOS token) and nothing added around it, and prints only the reply.
func TestGenerateChat(t *testing.T) {
	var cases map[string]struct {
		Messages []struct{ Content string } `json:"messages"`
	}
	var refs map[string]struct {
		Renders map[string]struct{ Output *string } `json:"renders"`
	}
	chatTestdata(t, "cases.json", &cases)
	chatTestdata(t, "renders.json", &refs)
	want := *refs["tinyllama-1.1b-chat"].Renders["single-user/gen"].Output
	prompt := cases["single-user"].Messages[0].Content
	src := sharedPath(t, "data/tokenizers/tinyllama-1.1b-chat-v1.0")

	rep := generateJSON(t, "--chat", "--chat-template", src, "--prompt", prompt, "-n", "3")
	v, err := embedded.Vocab()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	tok.ParseSpecial, tok.AddBOS, tok.AddEOS = true, false, false
	if ids := tok.Encode(want); !slices.Equal(rep.PromptTokens, ids) {
		t.Errorf("prompt tokens %v, want those of the template render %q: %v", rep.PromptTokens, want, ids)
	}
	if !slices.Contains(rep.PromptTokens, v.EOS) {
		t.Errorf("prompt tokens %v: </s> was not parsed as EOS %d", rep.PromptTokens, v.EOS)
	}
	if rep.PromptTokens[0] == v.BOS {
		t.Errorf("prompt starts with BOS; TinyLlama's template writes none and transformers adds none")
	}

	out, code, err := lmCLI(t, "generate", "--chat", "--chat-template", src, "--prompt", prompt, "-n", "3")
	if code != exitOK || out != tok.Decode(rep.Tokens)+"\n" {
		t.Errorf("generate --chat printed %q (exit %d, %v), want only the reply %q", out, code, err, tok.Decode(rep.Tokens)+"\n")
	}

	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"--chat", "--prompt", "x"}, exitFail},                                 // the embedded model has no template
		{[]string{"--system", "be brief", "--prompt", "x"}, exitUsage},                  // --system without --chat
		{[]string{"--chat", "--chat-template", t.TempDir(), "--prompt", "x"}, exitFail}, // no template there
	} {
		if _, code, err := lmCLI(t, append([]string{"generate"}, c.args...)...); code != c.code {
			t.Errorf("generate %v = exit %d (%v), want %d", c.args, code, err, c.code)
		}
	}
}

// TestChatStopsPhi3: with Phi-3's template and llama.cpp's Phi-3
// vocabulary, generate --chat stops at the tokens llama.cpp counts as end of
// generation for that vocabulary (llama-vocab.cpp's EOG texts present in it:
// "<|end|>" and "<|endoftext|>").
func TestChatStopsPhi3(t *testing.T) {
	v, err := tokenizer.Load(sharedPath(t, "data/llama.cpp-vocab/ggml-vocab-phi-3.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		t.Fatal(err)
	}
	o := chatOptions{on: true, template: sharedPath(t, "data/tokenizers/phi-3-mini")}
	ids, stops, err := o.encode("", "Hello", tok)
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for id, text := range v.Tokens {
		if text == "<|end|>" || text == "<|endoftext|>" {
			want = append(want, id)
		}
	}
	slices.Sort(stops)
	if len(want) != 2 || !slices.Equal(stops, want) {
		t.Errorf("stops %v, want the ids of <|end|> and <|endoftext|> %v", stops, want)
	}
	if first := v.Tokens[ids[0]]; first != "<|user|>" {
		t.Errorf("prompt starts with %q, want <|user|> (no BOS: the template writes none)", first)
	}
}
