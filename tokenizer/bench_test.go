package tokenizer

import (
	"os"
	"testing"
)

// BenchmarkEncode tokenizes the E2E validation split (1.2 MB) with the
// GPT-2 and the Llama 2 vocabularies. The GPT-2 word cache is emptied before
// every pass, so each figure is a cold single pass over the file.
func BenchmarkEncode(b *testing.B) {
	text, err := os.ReadFile(sharedFile(b, "e2e/valid.txt"))
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"gpt-2", "llama-spm"} {
		b.Run(name, func(b *testing.B) {
			v, err := loadGGUFVocab(b, "llama.cpp-vocab/ggml-vocab-"+name+".gguf")
			if err != nil {
				b.Fatal(err)
			}
			tok, err := New(v)
			if err != nil {
				b.Fatal(err)
			}
			s := string(text)
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			var n int
			for b.Loop() {
				if tok.bpe != nil {
					tok.bpe.cache = newWordCache()
				}
				n = len(tok.Encode(s))
			}
			b.ReportMetric(float64(n), "tokens")
		})
	}
}

// BenchmarkDecode decodes the E2E validation split's tokens.
func BenchmarkDecode(b *testing.B) {
	text, err := os.ReadFile(sharedFile(b, "e2e/valid.txt"))
	if err != nil {
		b.Fatal(err)
	}
	v, err := loadGGUFVocab(b, "llama.cpp-vocab/ggml-vocab-gpt-2.gguf")
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := New(v)
	ids := tok.Encode(string(text))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		tok.Decode(ids)
	}
}

// BenchmarkParseSentencePiece parses Llama 2's tokenizer.model (500 KB,
// 32,000 pieces).
func BenchmarkParseSentencePiece(b *testing.B) {
	data, err := os.ReadFile(sharedFile(b, "llama2-tokenizer/tokenizer.model"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSentencePiece(data, "tokenizer.model"); err != nil {
			b.Fatal(err)
		}
	}
}
