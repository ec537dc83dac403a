package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// hfVectors is one testdata/hfvectors file: Hugging Face tokenizers.js
// encodings of a tokenizer directory (see testdata/README.md).
type hfVectors struct {
	Dir   string
	Cases []struct {
		Text           string
		IDs            []int `json:"ids"`
		IDsWithSpecial []int `json:"ids_with_special"`
	}
}

// TestHFVectors checks lorakit against tokenizers.js for every tokenizer
// directory of ../shared/data/tokenizers that has a vocabulary, loaded
// every way: the directory, its tokenizer.json alone, and the directory
// through GGUF metadata (as a vocab-only conversion writes it) and back to
// tokenizer.json. Added and special tokens in the text are matched (as
// Hugging Face does by default); "with special" adds the BOS/EOS the
// tokenizer's own rule adds.
func TestHFVectors(t *testing.T) {
	files, err := filepath.Glob("testdata/hfvectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/hfvectors: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var hv hfVectors
		if err := json.Unmarshal(data, &hv); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		dir := sharedFile(t, "tokenizers/"+hv.Dir)
		orig, err := loadDirOnce(dir)
		if err != nil {
			t.Fatal(err)
		}
		toGGUF := func(v *Vocab, err error) (*Vocab, error) { return viaGGUFNamed(v, err, hv.Dir) }
		sources := map[string]func() (*Vocab, error){
			"dir":                  func() (*Vocab, error) { return loadDirOnce(dir) },
			"tokenizer.json":       func() (*Vocab, error) { return loadJSONWithConfig(dir) },
			"dir->gguf":            func() (*Vocab, error) { return toGGUF(loadDirOnce(dir)) },
			"dir->gguf->hf":        func() (*Vocab, error) { return viaHFDir(t)(toGGUF(loadDirOnce(dir))) },
			"tokenizer.json->gguf": func() (*Vocab, error) { return toGGUF(loadJSONWithConfig(dir)) },
		}
		for src, load := range sources {
			t.Run(hv.Dir+"/"+src, func(t *testing.T) {
				tok := loadTokenizer(t, load)
				v := tok.Vocab()
				tok.ParseSpecial = true
				checked := 0
				for _, tc := range hv.Cases {
					if strings.Contains(src, "gguf") && ggufDiverges(orig, tok, tc.Text) {
						continue
					}
					checked++
					if got := tok.Encode(tc.Text); !slices.Equal(got, tc.IDsWithSpecial) {
						t.Errorf("Encode(%q) = %v, want %v", tc.Text, got, tc.IDsWithSpecial)
					}
					tok.AddBOS, tok.AddEOS = false, false
					got := tok.Encode(tc.Text)
					if !slices.Equal(got, tc.IDs) {
						t.Errorf("Encode(%q) without BOS/EOS = %v, want %v", tc.Text, got, tc.IDs)
					}
					// Byte-level BPE decodes back to the text (special
					// tokens written out) unless a normalizer changed it.
					tok.DecodeSpecial = true
					if v.Model == ModelGPT2 && normalize(v.Normalizers, tc.Text) == tc.Text {
						if back := tok.Decode(got); back != tc.Text {
							t.Errorf("Decode(Encode(%q)) = %q", tc.Text, back)
						}
					}
					tok.DecodeSpecial = false
					tok.AddBOS, tok.AddEOS = v.AddBOS, v.AddEOS
				}
				if checked < len(hv.Cases)*3/4 {
					t.Errorf("only %d of %d cases checked", checked, len(hv.Cases))
				}
			})
		}
	}
}

// ggufDiverges reports whether llama.cpp, reading the vocabulary from GGUF,
// tokenizes text otherwise than Hugging Face by design: GGUF carries no
// normalizer (llama.cpp does not normalize), and no Metaspace rules
// (llama.cpp puts the space prefix after every special token, and before a
// leading space too).
func ggufDiverges(orig *Vocab, tok *Tokenizer, text string) bool {
	if normalize(orig.Normalizers, text) != text {
		return true
	}
	if orig.SpacePrefixMetaspace {
		frags := tok.partition(text)
		for i, f := range frags {
			if f.id < 0 && (i > 0 || strings.HasPrefix(f.text, " ")) {
				return true
			}
		}
	}
	return false
}

// viaGGUFNamed passes v through GGUF metadata with general.name set, as a
// conversion of the directory name writes it.
func viaGGUFNamed(v *Vocab, err error, name string) (*Vocab, error) {
	if err != nil {
		return nil, err
	}
	md := append(format.Metadata{{Key: "general.name", Value: name}}, v.Metadata()...)
	return FromMetadata(md)
}

// loadJSONWithConfig reads a directory's tokenizer.json with its
// tokenizer_config.json applied.
func loadJSONWithConfig(dir string) (*Vocab, error) {
	v, err := LoadTokenizerJSON(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "tokenizer_config.json")
	if data, err := os.ReadFile(path); err == nil {
		err = v.ApplyTokenizerConfig(data, path)
		return v, err
	}
	return v, nil
}

// viaHFDir writes v as a Hugging Face tokenizer directory and reads it back.
func viaHFDir(t *testing.T) func(*Vocab, error) (*Vocab, error) {
	return func(v *Vocab, err error) (*Vocab, error) {
		if err != nil {
			return nil, err
		}
		dir := t.TempDir()
		if err := SaveHF(dir, v, false); err != nil {
			return nil, err
		}
		return LoadDir(dir)
	}
}

// TestVocabMergesQwen: Qwen2.5 in the older directory form, vocab.json +
// merges.txt + tokenizer_config.json (whose added_tokens_decoder holds the
// special tokens and whose tokenizer_class names the pre-tokenizer),
// written from the shared tokenizer.json, tokenizes as tokenizers.js does
// with the tokenizer.json.
func TestVocabMergesQwen(t *testing.T) {
	src := sharedFile(t, "tokenizers/qwen2.5")
	full, err := loadDirOnce(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	vocab := map[string]int{}
	for id, tok := range full.Tokens {
		if full.Type(id) == Normal {
			vocab[tok] = id
		}
	}
	vj, _ := json.Marshal(vocab)
	os.WriteFile(filepath.Join(dir, "vocab.json"), vj, 0o644)
	os.WriteFile(filepath.Join(dir, "merges.txt"), []byte("#version: 0.2\n"+strings.Join(full.Merges, "\n")+"\n"), 0o644)
	cfg, err := os.ReadFile(filepath.Join(src, "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), cfg, 0o644)
	v, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != full.Len() || v.Pre != "qwen2" {
		t.Fatalf("vocab.json + merges.txt: %d tokens, pre %q; tokenizer.json %d, qwen2", v.Len(), v.Pre, full.Len())
	}
	data, err := os.ReadFile("testdata/hfvectors/qwen2.5.json")
	if err != nil {
		t.Fatal(err)
	}
	var hv hfVectors
	if err := json.Unmarshal(data, &hv); err != nil {
		t.Fatal(err)
	}
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	tok.ParseSpecial = true
	for _, tc := range hv.Cases {
		if got := tok.Encode(tc.Text); !slices.Equal(got, tc.IDsWithSpecial) {
			t.Errorf("Encode(%q) = %v, want %v", tc.Text, got, tc.IDsWithSpecial)
		}
	}
}
