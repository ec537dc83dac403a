package tokenizer_test

import (
	"fmt"
	"log"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/tokenizer"
)

func ExampleNew() {
	// stories260K's 512-piece SentencePiece vocabulary.
	v, err := tokenizer.LoadSentencePiece("testdata/tok512.model")
	if err != nil {
		log.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		log.Fatal(err)
	}
	ids := tok.Encode("Once upon a time")
	fmt.Println(ids)
	fmt.Printf("%q\n", tok.Decode(ids))
	// Output:
	// [1 403 407 261 378]
	// "Once upon a time"
}

func ExampleFromMetadata() {
	// The tokenizer.ggml.* keys of a GGUF file, here written by hand: a
	// SentencePiece vocabulary where "hi" (score -1) merges before "▁hi".
	md := format.Metadata{
		{Key: "tokenizer.ggml.model", Value: "llama"},
		{Key: "tokenizer.ggml.tokens", Value: []string{"<unk>", "<s>", "</s>", "▁", "h", "i", "hi", "▁hi"}},
		{Key: "tokenizer.ggml.scores", Value: []float32{0, 0, 0, -3, -4, -5, -1, -2}},
		{Key: "tokenizer.ggml.token_type", Value: []int32{2, 3, 3, 1, 1, 1, 1, 1}},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(2)},
		{Key: "tokenizer.ggml.unknown_token_id", Value: uint32(0)},
	}
	v, err := tokenizer.FromMetadata(md)
	if err != nil {
		log.Fatal(err)
	}
	tok, _ := tokenizer.New(v)
	fmt.Println(tok.Encode("hi hi"))
	// Output: [1 7 7]
}

func ExampleLoadGPT2() {
	v, err := tokenizer.LoadGPT2("testdata/tiny-gpt2-vocab.json", "testdata/tiny-gpt2-merges.txt")
	if err != nil {
		log.Fatal(err)
	}
	tok, _ := tokenizer.New(v)
	ids := tok.Encode(" lower")
	fmt.Println(ids, v.Tokens[ids[0]], v.Tokens[ids[1]])
	// Output: [14 15] Ġlow er
}

func ExampleVocab_Metadata() {
	v, err := tokenizer.LoadLlama2C("testdata/tok512.bin", 512)
	if err != nil {
		log.Fatal(err)
	}
	for _, kv := range v.Metadata() {
		fmt.Printf("%s %T\n", kv.Key, kv.Value)
	}
	// Output:
	// tokenizer.ggml.model string
	// tokenizer.ggml.pre string
	// tokenizer.ggml.tokens []string
	// tokenizer.ggml.scores []float32
	// tokenizer.ggml.token_type []int32
	// tokenizer.ggml.bos_token_id uint32
	// tokenizer.ggml.eos_token_id uint32
	// tokenizer.ggml.unknown_token_id uint32
	// tokenizer.ggml.add_bos_token bool
	// tokenizer.ggml.add_eos_token bool
}
