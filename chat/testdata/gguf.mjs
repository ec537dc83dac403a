// Writes gemma2-template.gguf: a GGUF v3 file with no tensors, holding Gemma 2's
// chat template (tokenizer.chat_template, from ../shared/data/tokenizers/
// gemma-2-9b-it-configs/tokenizer_config.json), a three-token vocabulary and
// bos/eos ids, written by @huggingface/gguf's serializeGgufMetadata. See README.md.
//
//   cd chat/testdata && NODE_PATH=/work/ref/node/node_modules node gguf.mjs ../../../shared
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { serializeGgufMetadata, GGUFValueType: T } = require("@huggingface/gguf");

const cfg = JSON.parse(fs.readFileSync(path.join(process.argv[2], "data/tokenizers/gemma-2-9b-it-configs/tokenizer_config.json"), "utf8"));
const kv = {
  "general.architecture": { value: "gemma2", type: T.STRING },
  "tokenizer.ggml.model": { value: "llama", type: T.STRING },
  "tokenizer.ggml.tokens": { value: ["<pad>", "<eos>", "<bos>"], type: T.ARRAY, subType: T.STRING },
  "tokenizer.ggml.bos_token_id": { value: 2, type: T.UINT32 },
  "tokenizer.ggml.eos_token_id": { value: 1, type: T.UINT32 },
  "tokenizer.chat_template": { value: cfg.chat_template, type: T.STRING },
};
const md = {
  version: { value: 3, type: T.UINT32 },
  tensor_count: { value: 0n, type: T.UINT64 },
  kv_count: { value: BigInt(Object.keys(kv).length), type: T.UINT64 },
  ...kv,
};
fs.writeFileSync("gemma2-template.gguf", serializeGgufMetadata(md));
