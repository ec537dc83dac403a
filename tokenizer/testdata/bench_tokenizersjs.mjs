// Encodes the benchmark text (written by TestWriteBenchText) with Hugging
// Face's tokenizers.js and the Llama 3 tokenizer, and prints MB/s: a fresh
// tokenizer for every pass (cold cache), best of three. Usage:
//   NODE_PATH=/work/ref/node/node_modules node bench_tokenizersjs.mjs TEXT TOKENIZER_DIR
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Tokenizer } = require(process.env.NODE_PATH + "/@huggingface/tokenizers");
const [textPath, dir] = process.argv.slice(2);
const text = fs.readFileSync(textPath, "utf8");
const json = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
const cfg = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
let best = Infinity, bestCPU = Infinity, n = 0;
for (let pass = 0; pass < 3; pass++) {
  const tok = new Tokenizer(json, cfg);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  n = tok.encode(text, { add_special_tokens: false }).ids.length;
  const c = process.cpuUsage(c0);
  best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  bestCPU = Math.min(bestCPU, (c.user + c.system) / 1e6);
}
const mb = Buffer.byteLength(text, "utf8") / 1e6;
console.log(`tokenizers.js ${process.version}: ${n} tokens, ${best.toFixed(3)} s (${(mb / best).toFixed(2)} MB/s), ` +
  `${bestCPU.toFixed(3)} CPU s (${(mb / bestCPU).toFixed(2)} MB/cpu-s)`);
