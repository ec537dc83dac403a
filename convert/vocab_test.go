package convert

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/tokenizer"
)

// ggufVocab reads the vocabulary of a GGUF file.
func ggufVocab(t *testing.T, path string) *tokenizer.Vocab {
	t.Helper()
	v, err := tokenizer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVocabOnly converts every tokenizer directory of
// ../shared/data/tokenizers that has a vocabulary with --vocab-only and
// checks, on the texts of tokenizer/testdata/hfvectors, that the GGUF
// tokenizes to the ids Hugging Face's tokenizers.js gives for the
// directory. Texts where llama.cpp differs from Hugging Face by design
// (GGUF has no normalizer and no Metaspace "first" rule; the tokenizer
// tests check those cases) are left out here: those with special tokens,
// leading white space or a non-NFC character.
func TestVocabOnly(t *testing.T) {
	files, _ := filepath.Glob("../tokenizer/testdata/hfvectors/*.json")
	if len(files) == 0 {
		t.Fatal("no ../tokenizer/testdata/hfvectors")
	}
	for _, f := range files {
		var hv struct {
			Dir   string
			Cases []struct {
				Text string
				IDs  []int `json:"ids"`
			}
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &hv); err != nil {
			t.Fatal(err)
		}
		t.Run(hv.Dir, func(t *testing.T) {
			dir := sharedPath(t, "data/tokenizers/"+hv.Dir)
			out := filepath.Join(t.TempDir(), "vocab.gguf")
			if err := VocabOnly(dir, "", out, false); err != nil {
				t.Fatal(err)
			}
			if err := VocabOnly(dir, "", out, false); !errors.Is(err, os.ErrExist) && (err == nil || !strings.Contains(err.Error(), "exists")) {
				t.Errorf("VocabOnly over an existing output = %v, want an error", err)
			}
			v := ggufVocab(t, out)
			// The GGUF itself as the source: the same vocabulary again.
			again := filepath.Join(t.TempDir(), "again.gguf")
			if err := VocabOnly(out, "", again, false); err != nil {
				t.Fatal(err)
			}
			if w := ggufVocab(t, again); !slices.Equal(w.Tokens, v.Tokens) || w.Pre != v.Pre || w.BOS != v.BOS || w.EOS != v.EOS {
				t.Errorf("VocabOnly(GGUF) changed the vocabulary")
			}
			hf, err := tokenizer.LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if hf.ChatTemplate != v.ChatTemplate {
				t.Errorf("chat template not carried (%d bytes, want %d)", len(v.ChatTemplate), len(hf.ChatTemplate))
			}
			fromGGUF, err := tokenizer.New(v)
			if err != nil {
				t.Fatal(err)
			}
			fromGGUF.AddBOS = false
			checked := 0
			for _, tc := range hv.Cases {
				special := strings.Contains(tc.Text, "<|") || strings.Contains(tc.Text, "<s>") || strings.Contains(tc.Text, "<｜")
				if special || strings.ContainsRune(tc.Text, '\u0301') || strings.TrimLeft(tc.Text, " \t\n") != tc.Text {
					continue
				}
				checked++
				if got := fromGGUF.Encode(tc.Text); !slices.Equal(got, tc.IDs) {
					t.Errorf("Encode(%q) from the GGUF = %v, want %v", tc.Text, got, tc.IDs)
				}
			}
			if checked < 20 {
				t.Errorf("only %d texts checked", checked)
			}
		})
	}
}

// TestModelTokenizerRoundTrip converts a tiny Llama checkpoint with a
// tokenizer.json to GGUF and back to Hugging Face, and checks that every
// form tokenizes alike.
func TestModelTokenizerRoundTrip(t *testing.T) {
	hfDir := sharedPath(t, "fixtures/hf-convert/hf/llama32")
	tok := "../tokenizer/testdata/tiny-llama-tokenizer.json"
	tmp := t.TempDir()
	ggufPath := filepath.Join(tmp, "m.gguf")
	if err := Model(context.Background(), hfDir, ggufPath, ModelOptions{Tokenizer: tok}); err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(tmp, "hf")
	if err := Model(context.Background(), ggufPath, back, ModelOptions{To: "hf"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(back, "tokenizer_config.json")); err != nil {
		t.Errorf("GGUF -> HF wrote no tokenizer_config.json: %v", err)
	}
	orig, err := tokenizer.LoadTokenizerJSON(tok)
	if err != nil {
		t.Fatal(err)
	}
	hfBack, err := tokenizer.LoadDir(back)
	if err != nil {
		t.Fatal(err)
	}
	text := " hi hi\nhih"
	var want []int
	for i, v := range []*tokenizer.Vocab{orig, ggufVocab(t, ggufPath), hfBack} {
		tk, err := tokenizer.New(v)
		if err != nil {
			t.Fatal(err)
		}
		got := tk.Encode(text)
		if i == 0 {
			want = got
		} else if !slices.Equal(got, want) {
			t.Errorf("form %d: Encode(%q) = %v, want %v", i, text, got, want)
		}
	}
}

// TestVocabOnlyBad: a directory without a tokenizer, and a tokenizer.json
// whose pre-tokenizer llama.cpp does not know.
func TestVocabOnlyBad(t *testing.T) {
	dir := t.TempDir()
	if err := VocabOnly(dir, "", filepath.Join(dir, "x.gguf"), false); !errors.Is(err, format.ErrNotFound) {
		t.Errorf("VocabOnly(empty dir) = %v, want ErrNotFound", err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(`{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\w+"}, "behavior": "Isolated"}, {"type": "ByteLevel", "use_regex": false}]}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`), 0o644)
	err := VocabOnly(dir, "", filepath.Join(dir, "x.gguf"), false)
	if !errors.Is(err, format.ErrUnsupported) || !strings.Contains(err.Error(), `\\w+`) || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("VocabOnly(unknown regex) = %v, want ErrUnsupported naming the regex and the file", err)
	}
}
