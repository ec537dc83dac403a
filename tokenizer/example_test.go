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

func ExampleParseTokenizerJSON() {
	// A Llama-3-style byte-level BPE: Split on Llama 3's pattern, then
	// ByteLevel without its own regex. The pattern is recognised by its
	// exact string and named as llama.cpp names it.
	const js = `{
	  "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
	    {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
	    {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
	  "model": {"type": "BPE", "ignore_merges": true,
	    "vocab": {"h": 0, "i": 1, "Ġ": 2, "hi": 3, "Ġhi": 4, "1": 5, "2": 6, "3": 7, "4": 8},
	    "merges": ["h i", "Ġ hi"]}}`
	v, err := tokenizer.ParseTokenizerJSON([]byte(js), "tokenizer.json")
	if err != nil {
		log.Fatal(err)
	}
	tok, _ := tokenizer.New(v)
	// Pieces: "hi", " hi", " ", "123", "4" (digits in threes).
	fmt.Println(v.Pre, tok.Encode("hi hi 1234"))
	// Output: llama-bpe [3 4 2 5 6 7 8]
}

func ExampleParseTiktoken() {
	// Ranks of three tokens, "a", "b" and "ab" (base64 "YQ==", "Yg==",
	// "YWI="): the merge "a b" is derived from them.
	v, err := tokenizer.ParseTiktoken([]byte("YQ== 0\nYg== 1\nYWI= 2\n"), "tokenizer.model")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Pre, v.Merges, v.Len(), v.Tokens[v.BOS])
	// Output: llama-bpe [a b] 259 <|begin_of_text|>
}

func ExampleLoad() {
	// Load reads GGUF files, Hugging Face directories, tokenizer.json,
	// tokenizer.model and llama2.c tokenizers alike.
	v, err := tokenizer.Load("testdata/tok512.bin")
	if err != nil {
		log.Fatal(err)
	}
	tok, _ := tokenizer.New(v)
	fmt.Println(tok.Encode("Once upon a time"))
	// Output: [1 403 407 261 378]
}

func ExampleVocab_ApplyGenerationConfig() {
	v, err := tokenizer.LoadTokenizerJSON("testdata/tiny-llama-tokenizer.json")
	if err != nil {
		log.Fatal(err)
	}
	// A list-valued eos_token_id: every id ends generation; "</s>" (2) is
	// EOS, and id 3, which llama.cpp would not know by its text, is
	// written as the end-of-turn id.
	if err := v.ApplyGenerationConfig([]byte(`{"eos_token_id": [2, 3]}`), "generation_config.json"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.EOS, v.EOT, v.EOGIDs())
	// Output: 2 3 [2 3]
}
