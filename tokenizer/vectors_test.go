package tokenizer

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/lorakit/lorakit/format/gguf"
)

// vectorVocabs lists every llama.cpp vocab test (ggml-vocab-NAME.gguf.inp
// and .out in ../shared/data/llama.cpp-vocab) lorakit can run: NAME and
// the tokenizer files that stand for it. Every GGUF there with vectors is
// here; llama-bpe and qwen2 have vectors only and are paired with the
// Llama 3 and Qwen2.5 tokenizer directories (PROVENANCE.md).
var vectorVocabs = []struct{ name, gguf, dir string }{
	{"gpt-2", "llama.cpp-vocab/ggml-vocab-gpt-2.gguf", ""},
	{"llama-spm", "llama.cpp-vocab/ggml-vocab-llama-spm.gguf", ""},
	{"phi-3", "llama.cpp-vocab/ggml-vocab-phi-3.gguf", ""},
	{"deepseek-coder", "llama.cpp-vocab/ggml-vocab-deepseek-coder.gguf", ""},
	{"deepseek-llm", "llama.cpp-vocab/ggml-vocab-deepseek-llm.gguf", ""},
	{"falcon", "llama.cpp-vocab/ggml-vocab-falcon.gguf", ""},
	{"mpt", "llama.cpp-vocab/ggml-vocab-mpt.gguf", ""},
	{"refact", "llama.cpp-vocab/ggml-vocab-refact.gguf", ""},
	{"starcoder", "llama.cpp-vocab/ggml-vocab-starcoder.gguf", ""},
	{"llama-bpe", "", "tokenizers/llama3"},
	{"qwen2", "", "tokenizers/qwen2.5"},
}

// vocabSources lists every way lorakit can load a vector vocabulary; each
// must reproduce llama.cpp's vectors.
func vocabSources(t *testing.T, name, ggufPath, dir string) map[string]func() (*Vocab, error) {
	src := map[string]func() (*Vocab, error){}
	if ggufPath != "" {
		src["gguf"] = func() (*Vocab, error) { return loadGGUFVocab(t, ggufPath) }
		src["gguf->tokenizer.json"] = func() (*Vocab, error) { return viaTokenizerJSON(loadGGUFVocab(t, ggufPath)) }
	}
	if dir != "" {
		src["dir"] = func() (*Vocab, error) { return loadDirOnce(sharedFile(t, dir)) }
		src["dir->gguf"] = func() (*Vocab, error) { return viaGGUF(loadDirOnce(sharedFile(t, dir))) }
		src["dir->gguf->tokenizer.json"] = func() (*Vocab, error) { return viaTokenizerJSON(viaGGUF(loadDirOnce(sharedFile(t, dir)))) }
	}
	switch name {
	case "gpt-2":
		src["encoder.json+vocab.bpe"] = func() (*Vocab, error) {
			return LoadGPT2(sharedFile(t, "gpt2-tokenizer/encoder.json"), sharedFile(t, "gpt2-tokenizer/vocab.bpe"))
		}
		src["tokenizer.json"] = func() (*Vocab, error) { return LoadTokenizerJSON(sharedFile(t, "gpt2-tokenizer/tokenizer.json")) }
	case "llama-spm":
		src["tokenizer.model"] = func() (*Vocab, error) { return LoadSentencePiece(sharedFile(t, "llama2-tokenizer/tokenizer.model")) }
	case "phi-3":
		src["tokenizer.json"] = func() (*Vocab, error) {
			return LoadTokenizerJSON(sharedFile(t, "tokenizers/phi-3-mini/tokenizer.json"))
		}
	case "deepseek-coder":
		src["tokenizer.json"] = func() (*Vocab, error) {
			return LoadTokenizerJSON(sharedFile(t, "tokenizers/deepseek-coder-1.3b-instruct/tokenizer.json"))
		}
	}
	return src
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

// viaGGUF passes v through its GGUF metadata.
func viaGGUF(v *Vocab, err error) (*Vocab, error) {
	if err != nil {
		return nil, err
	}
	return FromMetadata(v.Metadata())
}

// loadTokenizer makes a tokenizer of the vocabulary load gives.
func loadTokenizer(t *testing.T, load func() (*Vocab, error)) *Tokenizer {
	t.Helper()
	v, err := load()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestLlamaCppVectors reproduces llama.cpp's test-tokenizer-0 vectors
// (tokenize with add_special=false, parse_special=false) for every vocab of
// ../shared/data/llama.cpp-vocab that has them, from every source of each,
// and checks that decoding gives the text back.
func TestLlamaCppVectors(t *testing.T) {
	for _, vv := range vectorVocabs {
		base := "llama.cpp-vocab/ggml-vocab-" + vv.name + ".gguf"
		tests := readVocabTests(t, sharedFile(t, base+".inp"), sharedFile(t, base+".out"))
		for src, load := range vocabSources(t, vv.name, vv.gguf, vv.dir) {
			t.Run(vv.name+"/"+src, func(t *testing.T) {
				tok := loadTokenizer(t, load)
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
