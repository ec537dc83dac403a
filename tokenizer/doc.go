// Package tokenizer turns text into token ids and back for the two
// vocabulary families lorakit's models use, the way llama.cpp does:
//
//   - "gpt2": byte-level BPE (GPT-2). Text is split by GPT-2's pre-tokenizer
//     pattern, each piece's bytes are mapped to printable characters, and
//     pairs are merged by the rank of the merge rule.
//   - "llama": SentencePiece-style BPE (Llama 1/2, llama2.c models). Spaces
//     become "▁", a leading space is added, pairs are merged by the score of
//     the piece they form, and characters with no piece fall back to
//     <0xXX> byte tokens.
//
// A Vocab holds everything a tokenizer and a converter need (tokens, scores,
// token types, merges, special ids) and is read from any of the files that
// carry one: GPT-2's vocab.json + merges.txt, Hugging Face tokenizer.json, a
// SentencePiece tokenizer.model, a llama2.c tokenizer.bin, or GGUF metadata
// (tokenizer.ggml.*). Vocab.Metadata writes the GGUF keys back exactly as
// llama.cpp's converters do, and WriteTokenizerJSON writes a tokenizer.json.
//
// New builds a Tokenizer from a Vocab:
//
//	v, err := tokenizer.LoadSentencePiece("tokenizer.model")
//	tok, err := tokenizer.New(v)
//	ids := tok.Encode("Hello world") // [1 15043 3186] with BOS
//	text := tok.Decode(ids)          // "Hello world"
//
// Every loader treats its file as hostile: malformed input gives an error
// wrapping format.ErrFormat that names the file, never a panic, and no
// allocation is sized by a count read from the file before it is checked
// against the file's length.
package tokenizer
