// Package tokenizer turns text into token ids and back for the vocabulary
// families of today's models, the way Hugging Face's tokenizers and
// llama.cpp do:
//
//   - "gpt2": byte-level BPE (GPT-2, Llama 3, Qwen2/2.5/3, Mistral NeMo,
//     DeepSeek, Falcon, StarCoder, Command-R, SmolLM, OLMo, MPT, ...). Text
//     is split by the model's pre-tokenizer, each piece's bytes are mapped
//     to printable characters, and pairs are merged by the rank of the
//     merge rule (a priority queue over an open-addressing pair table).
//   - "llama": SentencePiece-style BPE (Llama 1/2, Mistral 7B, Phi-3,
//     TinyLlama, llama2.c models). Spaces become "▁", a leading space is
//     added, pairs are merged by the score of the piece they form, and
//     characters with no piece fall back to <0xXX> byte tokens.
//
// Pre-tokenizers. Go's regexp has no look-ahead (\s+(?!\S)) and no
// Oniguruma backtracking order, so the splitting each known pre-tokenizer
// regex means is written by hand (matchers.go), for every byte-level type
// llama.cpp names in tokenizer.ggml.pre: gpt-2 (and mpt, olmo, ...),
// llama-bpe, qwen2, tekken, gpt-4o, deepseek-llm, deepseek-coder,
// deepseek-v3, falcon (and llama.cpp's "default"), starcoder (and refact,
// command-r, smollm, ...), dbrx. A tokenizer.json regex is recognised by its
// exact string; an unknown one is refused with an error naming it, never
// approximated (pretypes.go).
//
// A Vocab holds everything a tokenizer and a converter need (tokens, scores,
// token types, merges, pre-tokenizer, normalizers, added-token flags,
// special and end-of-generation ids, chat template) and is read from any of
// the files that carry one: Hugging Face tokenizer.json (ParseTokenizerJSON),
// vocab.json + merges.txt (+ added_tokens.json), a SentencePiece or tiktoken
// tokenizer.model, a llama2.c tokenizer.bin, a model directory with its
// tokenizer_config.json, generation_config.json and chat_template.jinja
// (LoadDir), or GGUF metadata (FromMetadata); Load picks by content.
// Vocab.Metadata writes the GGUF keys back as llama.cpp's converter does,
// and SaveHF writes tokenizer.json and tokenizer_config.json.
//
// New builds a Tokenizer from a Vocab:
//
//	v, err := tokenizer.Load("Meta-Llama-3-8B-Instruct") // or a .gguf
//	tok, err := tokenizer.New(v)
//	tok.ParseSpecial = true   // "<|eot_id|>" in the text is that token
//	ids := tok.Encode("Hello world") // [128000 9906 1917] with BOS
//	text := tok.Decode(ids)          // "Hello world"
//
// Where GGUF cannot say what a Hugging Face tokenizer does (a normalizer
// such as Qwen2's NFC, Metaspace's prepend_scheme "first", added tokens'
// lstrip/rstrip), a vocabulary read from GGUF tokenizes as llama.cpp does.
//
// Every loader treats its file as hostile: malformed input gives an error
// wrapping format.ErrFormat that names the file and the place in it, never
// a panic, and no allocation is sized by a count read from the file before
// it is checked against the file's length.
package tokenizer
