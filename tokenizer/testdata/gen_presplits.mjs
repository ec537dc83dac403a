// Writes presplits.json: the pieces Hugging Face's tokenizers.js
// pre-tokenizers make of llama.cpp's tokenizer test texts and the texts of
// gen_hfvectors.mjs, for each pre_tokenizer in PRETYPES (written by
// lorakit's TestWritePreTypes). Run from tokenizer/testdata:
//   NODE_PATH=/work/ref/node/node_modules node gen_presplits.mjs PRETYPES ../../../shared/data/llama.cpp-vocab/ggml-vocab-llama-bpe.gguf.inp
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Tokenizer } = require(process.env.NODE_PATH + "/@huggingface/tokenizers");
const [typesPath, inpPath] = process.argv.slice(2);
const types = JSON.parse(fs.readFileSync(typesPath, "utf8"));
const texts = fs.readFileSync(inpPath, "utf8").split("\n__ggml_vocab_test__\n").slice(0, -1);
const hv = JSON.parse(fs.readFileSync("hfvectors/llama3.json", "utf8"));
for (const c of hv.cases) texts.push(c.text);
texts.push("Ǆemo ǅemo HTTPServer iPhoneX naïve café x'S'll 'RE a/b/c\r\n\r\n/ 12345678 ٣٤٥ ½");
const out = { tool: "@huggingface/tokenizers 0.2.0", texts, types: [] };
for (const name of Object.keys(types).sort()) {
  const tok = new Tokenizer({ model: { type: "BPE", vocab: { a: 0 }, merges: [] }, pre_tokenizer: types[name], added_tokens: [], normalizer: null, post_processor: null, decoder: { type: "ByteLevel" } }, {});
  out.types.push({ name, pieces: texts.map((t) => tok.pre_tokenizer.pre_tokenize_text(t)) });
}
fs.writeFileSync("presplits.json", JSON.stringify(out) + "\n");
console.log(Object.keys(types).length, "types,", texts.length, "texts");
