// Package embedded holds a small real language model compiled into the
// program: Karpathy's stories260K (a 260K-parameter Llama trained on
// TinyStories, llama2.c checkpoint format, MIT) and its 512-token
// SentencePiece vocabulary. It lets `lorakit generate` run with no model
// file; README.md in this directory gives the files' origin and checksums.
package embedded

import (
	_ "embed"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/llama2c"
	"github.com/lorakit/lorakit/tokenizer"
)

// Name is the embedded model's name, as it appears in errors and reports.
const Name = "stories260K"

//go:embed stories260K.bin
var checkpoint []byte

//go:embed tok512.model
var vocabulary []byte

// Source returns the embedded checkpoint as a format.Source with
// llama.cpp's tensor names and metadata, ready for model.Load. It reads
// the program's own memory: nothing is copied and Close is a no-op.
func Source() (format.Source, error) {
	return llama2c.NewReader(checkpoint, Name+".bin")
}

// Vocab returns the embedded model's vocabulary (a fresh copy each call).
func Vocab() (*tokenizer.Vocab, error) {
	return tokenizer.ParseSentencePiece(vocabulary, "tok512.model")
}
