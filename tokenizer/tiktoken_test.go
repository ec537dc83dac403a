package tokenizer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestTiktoken writes Llama 3's vocabulary as tiktoken ranks (the form of
// its original tokenizer.model: base64 of each token's bytes and its id),
// reads it back, and checks the tokens and special tokens against the
// Hugging Face files and the merges derived from the ranks against
// llama.cpp's llama-bpe vectors.
func TestTiktoken(t *testing.T) {
	hf, err := loadDirOnce(sharedFile(t, "tokenizers/llama3"))
	if err != nil {
		t.Fatal(err)
	}
	var ranks bytes.Buffer
	for id := 0; id < 128000; id++ {
		fmt.Fprintf(&ranks, "%s %d\n", base64.StdEncoding.EncodeToString(byteLevelDecode(nil, hf.Tokens[id])), id)
	}
	if !looksTiktoken(ranks.Bytes()) {
		t.Fatal("looksTiktoken(ranks) = false")
	}
	v, err := ParseTiktoken(ranks.Bytes(), "tokenizer.model")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.Tokens, hf.Tokens) {
		t.Fatalf("tiktoken tokens differ from tokenizer.json's (%d vs %d)", len(v.Tokens), len(hf.Tokens))
	}
	for id := range v.Tokens {
		if (v.Type(id) == Control) != (hf.Type(id) == Control) {
			t.Fatalf("token %d %q: type %d, tokenizer.json %d", id, v.Tokens[id], v.Type(id), hf.Type(id))
		}
	}
	if v.BOS != 128000 || v.EOS != 128001 || v.EOM != 128008 || v.EOT != 128009 || v.Pre != "llama-bpe" {
		t.Errorf("bos %d eos %d eom %d eot %d pre %q, want 128000 128001 128008 128009 llama-bpe", v.BOS, v.EOS, v.EOM, v.EOT, v.Pre)
	}
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	tok.AddBOS = false
	base := "llama.cpp-vocab/ggml-vocab-llama-bpe.gguf"
	for i, tc := range readVocabTests(t, sharedFile(t, base+".inp"), sharedFile(t, base+".out")) {
		if got := tok.Encode(tc.text); !slices.Equal(got, tc.ids) {
			t.Errorf("vector %d: Encode(%q) = %v, want %v", i, tc.text, got, tc.ids)
		}
	}
	for _, bad := range []string{"SGk= 1\n", "SGk= 0\nSGk= 1\n", "!!! 0\n", "SGk=\n"} {
		if _, err := ParseTiktoken([]byte(bad), "bad.model"); !errors.Is(err, format.ErrFormat) {
			t.Errorf("ParseTiktoken(%q) = %v, want ErrFormat", bad, err)
		}
	}
}
