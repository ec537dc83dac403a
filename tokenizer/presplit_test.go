package tokenizer

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// preSplits is testdata/presplits.json: for each llama.cpp pre-tokenizer
// type, the pieces Hugging Face's tokenizers.js makes of each text with
// the type's pre_tokenizer (see testdata/README.md).
type preSplits struct {
	Texts []string
	Types []struct {
		Name   string
		Pieces [][]string // per text, the pieces (byte-level characters where ByteLevel mapped them)
	}
}

// TestPreTokenizerTypes checks the hand-written splitting of every
// pre-tokenizer type against tokenizers.js's regex engine on llama.cpp's
// test texts and lorakit's multilingual texts. Falcon's Punctuation step
// uses the Contiguous behavior, which tokenizers.js does not implement;
// falcon is checked by llama.cpp's vectors instead. tokenizers.js's Digits
// step knows only ASCII digits where Hugging Face's Rust Digits takes every
// \p{N} (char::is_numeric; llama.cpp's vectors, made with the Rust
// library, show "½" split off: ggml-vocab-deepseek-coder "ied 4 ½ months"),
// so texts with other numerals are left out for types with a Digits step.
func TestPreTokenizerTypes(t *testing.T) {
	data, err := os.ReadFile("testdata/presplits.json")
	if err != nil {
		t.Fatal(err)
	}
	var ps preSplits
	if err := json.Unmarshal(data, &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps.Types) < 9 {
		t.Fatalf("presplits.json covers %d types", len(ps.Types))
	}
	for _, typ := range ps.Types {
		t.Run(typ.Name, func(t *testing.T) {
			pt, ok := lookupPre(typ.Name)
			if !ok {
				t.Fatalf("lookupPre(%q) failed", typ.Name)
			}
			p, err := compilePre(pt.steps)
			if err != nil {
				t.Fatal(err)
			}
			hasDigits := slices.ContainsFunc(pt.steps, func(s PreStep) bool { return s.Type == "Digits" })
			checked := 0
			for i, text := range ps.Texts {
				if hasDigits && strings.ContainsFunc(text, func(r rune) bool { return unicode.IsNumber(r) && (r < '0' || r > '9') }) {
					continue
				}
				checked++
				spans, _ := p.split(text, nil, nil)
				got := make([]string, len(spans))
				for k, sp := range spans {
					got[k] = text[sp.a:sp.b]
				}
				want := make([]string, len(typ.Pieces[i]))
				for k, piece := range typ.Pieces[i] {
					want[k] = piece
					if pt.steps[len(pt.steps)-1].Type == "ByteLevel" {
						want[k] = string(byteLevelDecode(nil, piece))
					}
				}
				if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
					t.Errorf("split(%q) = %q, want %q", text, got, want)
				}
			}
			if checked < len(ps.Texts)*3/4 {
				t.Errorf("only %d of %d texts checked", checked, len(ps.Texts))
			}
		})
	}
}

// TestWritePreTypes writes each pre-tokenizer type's tokenizer.json
// pre_tokenizer for testdata/gen_presplits.mjs when LORAKIT_PRETYPES names
// a file.
func TestWritePreTypes(t *testing.T) {
	path := os.Getenv("LORAKIT_PRETYPES")
	if path == "" {
		t.Skip("LORAKIT_PRETYPES not set")
	}
	out := map[string]json.RawMessage{}
	for _, pt := range preTypes {
		if pt.names[0] == "falcon" || pt.names[0] == "dbrx" {
			continue // Contiguous (not in tokenizers.js); dbrx splits as llama-bpe
		}
		out[pt.names[0]] = json.RawMessage(preStepsJSON(pt.steps))
	}
	data, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWriteHFFromGGUF writes each llama.cpp vocab GGUF of
// ../shared/data/llama.cpp-vocab as a Hugging Face tokenizer directory
// under LORAKIT_HF_OUT, for testdata/check_hf_from_gguf.mjs, which checks
// with tokenizers.js that the files lorakit writes reproduce llama.cpp's
// vectors (testdata/README.md).
func TestWriteHFFromGGUF(t *testing.T) {
	out := os.Getenv("LORAKIT_HF_OUT")
	if out == "" {
		t.Skip("LORAKIT_HF_OUT not set")
	}
	for _, vv := range vectorVocabs {
		var v *Vocab
		var err error
		if vv.gguf != "" {
			v, err = loadGGUFVocab(t, vv.gguf)
		} else {
			v, err = viaGGUF(loadDirOnce(sharedFile(t, vv.dir)))
		}
		if err != nil {
			t.Fatal(err)
		}
		dir := out + "/" + vv.name
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := SaveHF(dir, v, true); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPreTokenizerHandCases checks splits worked out by hand from the
// patterns, for the types tokenizers.js cannot check: llama.cpp's default
// (its regexes applied to raw text) and falcon (whose Digits and
// three-digit steps run on byte-level characters, so "м" = D0 BC splits at
// "¼", the character of byte BC, which is numeric).
func TestPreTokenizerHandCases(t *testing.T) {
	for _, tc := range []struct {
		pre, in string
		want    []string
	}{
		{"default", "a$$b 1234567 x`y", []string{"a", "$$", "b", " ", "123", "456", "7", " x", "`", "y"}},
		{"falcon", "a$$b 1234567 x`y", []string{"a", "$$", "b", " ", "123", "456", "7", " x", "`", "y"}},
		{"falcon", "м 999", []string{"\xd0", "\xbc", " ", "999"}},
		{"default", "м 999", []string{"м", " ", "999"}},
		{"falcon", "hello, world!! ...ok", []string{"hello", ",", " world", "!!", " ", "...", "ok"}},
	} {
		if got := splitWith(t, tc.pre, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: split(%q) = %q, want %q", tc.pre, tc.in, got, tc.want)
		}
	}
}

// TestChunkEndSkipsSlashAfterPunctuation: GPT-4o's and Tekken's punctuation
// runs take "\n/" with them, so a long text is not cut between "!\n" and
// "/" but at the next line start.
func TestChunkEndSkipsSlashAfterPunctuation(t *testing.T) {
	head := strings.Repeat("a", chunkSize-1) + "!\n/b\n" // the first "\n" at or after chunkSize is "!"'s
	text := head + "c\nd"
	if got := chunkEnd(text); got != len(head) {
		t.Errorf("chunkEnd cuts at %d, want %d (after %q)", got, len(head), text[len(head)-5:len(head)])
	}
}
