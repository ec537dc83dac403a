// Loads with tokenizers.js the tokenizer.json + tokenizer_config.json that
// lorakit writes from llama.cpp's vocab GGUFs (TestWriteHFFromGGUF) and
// compares their encodings with llama.cpp's vectors. Usage, from
// tokenizer/testdata:
//   NODE_PATH=/work/ref/node/node_modules node check_hf_from_gguf.mjs HF_OUT ../../../shared/data/llama.cpp-vocab
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Tokenizer } = require(process.env.NODE_PATH + "/@huggingface/tokenizers");
const [out, vocabDir] = process.argv.slice(2);
for (const name of fs.readdirSync(out).sort()) {
  const base = path.join(vocabDir, `ggml-vocab-${name}.gguf`);
  const texts = fs.readFileSync(base + ".inp", "utf8").split("\n__ggml_vocab_test__\n").slice(0, -1);
  const want = fs.readFileSync(base + ".out", "utf8").trimEnd().split("\n").map((l) => l.trim());
  let tok;
  try {
    tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(out, name, "tokenizer.json"), "utf8")),
      JSON.parse(fs.readFileSync(path.join(out, name, "tokenizer_config.json"), "utf8")));
  } catch (e) {
    console.log(name, "does not load:", e.message);
    continue;
  }
  let ok = 0;
  const bad = [];
  texts.forEach((t, i) => {
    const got = tok.encode(t, { add_special_tokens: false }).ids.join(" ");
    if (got === want[i]) ok++;
    else bad.push(JSON.stringify(t));
  });
  console.log(`${name}: ${ok}/${texts.length}` + (bad.length ? ` differ: ${bad.join(", ")}` : ""));
}
