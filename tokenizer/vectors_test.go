package tokenizer

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/format/gguf"
)

// vocabSources lists, per llama.cpp vocab test file, every way lorakit can
// load that vocabulary; each must reproduce llama.cpp's vectors.
func vocabSources(t *testing.T, name string) map[string]func() (*Vocab, error) {
	switch name {
	case "gpt-2":
		return map[string]func() (*Vocab, error){
			"gguf": func() (*Vocab, error) { return loadGGUFVocab(t, "llama.cpp-vocab/ggml-vocab-gpt-2.gguf") },
			"encoder.json+vocab.bpe": func() (*Vocab, error) {
				return LoadGPT2(sharedFile(t, "gpt2-tokenizer/encoder.json"), sharedFile(t, "gpt2-tokenizer/vocab.bpe"))
			},
			"tokenizer.json": func() (*Vocab, error) {
				return LoadTokenizerJSON(sharedFile(t, "gpt2-tokenizer/tokenizer.json"))
			},
			"gguf->tokenizer.json": func() (*Vocab, error) {
				return viaTokenizerJSON(loadGGUFVocab(t, "llama.cpp-vocab/ggml-vocab-gpt-2.gguf"))
			},
		}
	case "llama-spm":
		return map[string]func() (*Vocab, error){
			"gguf": func() (*Vocab, error) { return loadGGUFVocab(t, "llama.cpp-vocab/ggml-vocab-llama-spm.gguf") },
			"tokenizer.model": func() (*Vocab, error) {
				return LoadSentencePiece(sharedFile(t, "llama2-tokenizer/tokenizer.model"))
			},
			"gguf->tokenizer.json": func() (*Vocab, error) {
				return viaTokenizerJSON(loadGGUFVocab(t, "llama.cpp-vocab/ggml-vocab-llama-spm.gguf"))
			},
		}
	}
	t.Fatalf("no sources for %s", name)
	return nil
}

// loadGGUFVocab reads the tokenizer.ggml.* metadata of a shared GGUF file.
func loadGGUFVocab(t testing.TB, rel string) (*Vocab, error) {
	r, err := gguf.Open(sharedFile(t, rel))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return FromMetadata(r.Metadata())
}

// viaTokenizerJSON writes v as tokenizer.json and reads it back.
func viaTokenizerJSON(v *Vocab, err error) (*Vocab, error) {
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := WriteTokenizerJSON(&buf, v); err != nil {
		return nil, err
	}
	return ParseTokenizerJSON(buf.Bytes(), "written tokenizer.json")
}

// TestLlamaCppVectors reproduces llama.cpp's test-tokenizer-0 vectors
// (tokenize with add_special=false, parse_special=false) for the GPT-2 and
// the Llama SentencePiece vocabularies, from every source of each, and
// checks that decoding gives the text back.
func TestLlamaCppVectors(t *testing.T) {
	for _, name := range []string{"gpt-2", "llama-spm"} {
		base := "llama.cpp-vocab/ggml-vocab-" + name + ".gguf"
		tests := readVocabTests(t, sharedFile(t, base+".inp"), sharedFile(t, base+".out"))
		for src, load := range vocabSources(t, name) {
			t.Run(name+"/"+src, func(t *testing.T) {
				v, err := load()
				if err != nil {
					t.Fatal(err)
				}
				tok, err := New(v)
				if err != nil {
					t.Fatal(err)
				}
				tok.AddBOS, tok.AddEOS = false, false
				for i, tc := range tests {
					got := tok.Encode(tc.text)
					if !slices.Equal(got, tc.ids) {
						t.Errorf("vector %d: Encode(%q) = %v, want %v", i, tc.text, got, tc.ids)
						continue
					}
					if back := tok.Decode(got); back != tc.text {
						t.Errorf("vector %d: Decode(Encode(%q)) = %q", i, tc.text, back)
					}
				}
			})
		}
	}
}

// TestSameVocabEverySource checks that the GGUF files' tokenizer metadata
// (written by llama.cpp's converter) equals what lorakit builds from the
// original tokenizer files, key for key, type for type.
func TestSameVocabEverySource(t *testing.T) {
	for _, tc := range []struct {
		gguf string
		load func() (*Vocab, error)
	}{
		{"llama.cpp-vocab/ggml-vocab-gpt-2.gguf", func() (*Vocab, error) {
			return LoadGPT2(sharedFile(t, "gpt2-tokenizer/encoder.json"), sharedFile(t, "gpt2-tokenizer/vocab.bpe"))
		}},
		{"llama.cpp-vocab/ggml-vocab-gpt-2.gguf", func() (*Vocab, error) {
			return LoadTokenizerJSON(sharedFile(t, "gpt2-tokenizer/tokenizer.json"))
		}},
		{"llama.cpp-vocab/ggml-vocab-llama-spm.gguf", func() (*Vocab, error) {
			return LoadSentencePiece(sharedFile(t, "llama2-tokenizer/tokenizer.model"))
		}},
	} {
		t.Run(tc.gguf, func(t *testing.T) {
			r, err := gguf.Open(sharedFile(t, tc.gguf))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var want []string
			for _, kv := range r.Metadata() {
				if len(kv.Key) > 10 && kv.Key[:10] == "tokenizer." {
					want = append(want, fmt.Sprintf("%s %T %v", kv.Key, kv.Value, kv.Value))
				}
			}
			v, err := tc.load()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, kv := range v.Metadata() {
				got = append(got, fmt.Sprintf("%s %T %v", kv.Key, kv.Value, kv.Value))
			}
			if !slices.Equal(got, want) {
				for i := range max(len(got), len(want)) {
					g, w := "<none>", "<none>"
					if i < len(got) {
						g = got[i]
					}
					if i < len(want) {
						w = want[i]
					}
					if g != w {
						t.Errorf("Metadata()[%d] = %.200s\nwant %.200s", i, g, w)
					}
				}
			}
		})
	}
}
