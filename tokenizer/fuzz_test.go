package tokenizer

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// fuzzTexts are encoded by every vocabulary a fuzz target manages to parse.
var fuzzTexts = []string{"", " ", "Hello world", "<s>a</s>", "\xff\xfe", "héllo  \n\t wörld 123"}

// exercise builds a tokenizer from a vocabulary that parsed and runs it:
// nothing may panic.
func exercise(t *testing.T, v *Vocab) {
	tok, err := New(v)
	if err != nil {
		if !errors.Is(err, format.ErrFormat) && !errors.Is(err, format.ErrUnsupported) {
			t.Fatalf("New = %v, want ErrFormat or ErrUnsupported", err)
		}
		return
	}
	tok.ParseSpecial, tok.DecodeSpecial = true, true
	for _, s := range fuzzTexts {
		tok.Decode(tok.Encode(s))
	}
}

func FuzzParseSentencePiece(f *testing.F) {
	data, err := os.ReadFile("testdata/tok512.model")
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range []int{len(data), 1000, 100, 10} {
		f.Add(data[:n])
	}
	f.Add(threePieces)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseSentencePiece(data, "fuzz.model")
		if err != nil {
			if !errors.Is(err, format.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		exercise(t, v)
		// What parses survives a trip through GGUF metadata.
		back, err := FromMetadata(v.Metadata())
		if err != nil {
			if errors.Is(err, format.ErrFormat) {
				return // e.g. a type GGUF keeps but the proto did not
			}
			t.Fatalf("FromMetadata(Metadata()) = %v", err)
		}
		if !slices.Equal(back.Tokens, v.Tokens) {
			t.Fatalf("tokens changed through metadata")
		}
	})
}

func FuzzParseTokenizerJSON(f *testing.F) {
	for _, p := range []string{"testdata/tiny-llama-tokenizer.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	if v, err := LoadGPT2("testdata/tiny-gpt2-vocab.json", "testdata/tiny-gpt2-merges.txt"); err == nil {
		var buf bytes.Buffer
		if err := WriteTokenizerJSON(&buf, v); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}, "pre_tokenizer": {"type": "ByteLevel"}}`))
	f.Add([]byte(`{"normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "` + strings.ReplaceAll(qwen2Pattern, `\`, `\\`) + `"}, "behavior": "Isolated"}, {"type": "ByteLevel", "use_regex": false}]}, "added_tokens": [{"id": 3, "content": "<|x|>", "special": true, "rstrip": true}], "model": {"type": "BPE", "ignore_merges": true, "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}`))
	f.Add([]byte(`{"pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"}, "model": {"type": "BPE", "byte_fallback": true, "vocab": {"▁": 0, "a": 1, "▁a": 2}, "merges": ["▁ a"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseTokenizerJSON(data, "fuzz.json")
		if err != nil {
			if !errors.Is(err, format.ErrFormat) && !errors.Is(err, format.ErrUnsupported) {
				t.Fatalf("error %v wraps neither ErrFormat nor ErrUnsupported", err)
			}
			return
		}
		exercise(t, v)
		// What parses round-trips through a written tokenizer.json.
		var buf bytes.Buffer
		if err := WriteTokenizerJSON(&buf, v); err != nil {
			if errors.Is(err, format.ErrUnsupported) {
				return // two normal tokens with one text
			}
			t.Fatalf("WriteTokenizerJSON = %v", err)
		}
		back, err := ParseTokenizerJSON(buf.Bytes(), "rewritten.json")
		if err != nil {
			t.Fatalf("re-reading the written tokenizer.json: %v\n%s", err, buf.Bytes())
		}
		if !slices.Equal(back.Tokens, v.Tokens) || back.Model != v.Model || back.Pre != v.Pre {
			t.Fatalf("tokens, model or pre-tokenizer changed through tokenizer.json")
		}
		t1, err1 := New(v)
		t2, err2 := New(back)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("New: %v before, %v after tokenizer.json", err1, err2)
		}
		if err1 == nil {
			t1.ParseSpecial, t2.ParseSpecial = true, true
			for _, text := range []string{"ab a b  ba\n", " <|x|> aab"} {
				if a, b := t1.Encode(text), t2.Encode(text); !slices.Equal(a, b) {
					t.Fatalf("Encode(%q) = %v, after tokenizer.json %v", text, a, b)
				}
			}
		}
	})
}

func FuzzParseLlama2C(f *testing.F) {
	data, err := os.ReadFile("testdata/tok512.bin")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data, 512)
	f.Add(data[:200], 0)
	f.Add(data[:7], 1)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		v, err := ParseLlama2C(data, "fuzz.bin", n)
		if err != nil {
			if !errors.Is(err, format.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		exercise(t, v)
	})
}

// byteVocab is the gpt2 fixture vocabulary of ../shared/fixtures/README.md,
// built by hand: the 256 byte tokens, four merges and <|endoftext|>.
func byteVocab() *Vocab {
	v := newVocab(ModelGPT2)
	for b := range 256 {
		v.Tokens = append(v.Tokens, byteToUTF8[b])
	}
	v.Tokens = append(v.Tokens, "Ġa", "th", "the", "on", endOfText)
	v.Merges = []string{"Ġ a", "t h", "th e", "o n"}
	v.Types = make([]TokenType, len(v.Tokens))
	for i := range v.Types {
		v.Types[i] = Normal
	}
	v.Types[260] = Control
	v.BOS, v.EOS = 260, 260
	return v
}

var fuzzTokenizers = sync.OnceValues(func() ([]*Tokenizer, error) {
	bl, err := New(byteVocab())
	if err != nil {
		return nil, err
	}
	sp, err := LoadSentencePiece("testdata/tok512.model")
	if err != nil {
		return nil, err
	}
	spm, err := New(sp)
	if err != nil {
		return nil, err
	}
	bl.AddBOS, spm.AddBOS = false, false
	return []*Tokenizer{bl, spm}, nil
})

// FuzzRoundTrip: byte-level BPE decodes any input, valid UTF-8 or not, back
// to exactly itself; so does SentencePiece with byte fallback, for any
// input without "▁" (which it reads as a space).
func FuzzRoundTrip(f *testing.F) {
	for _, s := range append(fuzzTexts, stories260KText, "ied 4 ½ months", "🚀 (normal) 😶‍🌫️", "  \n\n\t x'S'll") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		toks, err := fuzzTokenizers()
		if err != nil {
			t.Fatal(err)
		}
		for i, tok := range toks {
			if i == 1 && strings.Contains(text, spaceMark) {
				continue
			}
			ids := tok.Encode(text)
			if got := tok.Decode(ids); got != text {
				t.Fatalf("%s: Decode(Encode(%q)) = %q (ids %v)", tok.Vocab().Model, text, got, ids)
			}
		}
	})
}

// FuzzPreTokenizers: every pre-tokenizer type cuts any input, valid UTF-8
// or not, into non-empty pieces that tile it, and never matches across a
// line start where Encode cuts long texts into chunks (cutsAt).
func FuzzPreTokenizers(f *testing.F) {
	for _, s := range append(fuzzTexts, stories260KText, "ied 4 ½ months", "🚀 (normal) 😶‍🌫️", "  \n\n\t x'S'll", "a\n b\nc\r\n\r\nd  \n\t\ne") {
		f.Add(s)
	}
	var pipes []*pipeline
	for _, pt := range preTypes {
		p, err := compilePre(pt.steps)
		if err != nil {
			f.Fatal(err)
		}
		pipes = append(pipes, p)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for k, p := range pipes {
			spans, _ := p.split(text, nil, nil)
			at := 0
			cuts := map[int]bool{}
			for _, sp := range spans {
				if sp.a != at || sp.b <= sp.a {
					t.Fatalf("%s: split(%q) = %v: not a tiling", preTypes[k].names[0], text, spans)
				}
				cuts[sp.a] = true
				at = sp.b
			}
			if at != len(text) {
				t.Fatalf("%s: split(%q) ends at %d of %d", preTypes[k].names[0], text, at, len(text))
			}
			for i := 1; i < len(text); i++ {
				if cutsAt(text, i) && !cuts[i] {
					t.Fatalf("%s: split(%q) = %v: a piece crosses the line start at %d", preTypes[k].names[0], text, spans, i)
				}
			}
		}
	})
}
