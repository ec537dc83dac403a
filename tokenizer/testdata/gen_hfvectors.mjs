// Writes hfvectors/<dir>.json: Hugging Face tokenizers.js encodings of
// texts (multilingual, emoji, digits, code, whitespace runs, special tokens)
// for each tokenizer directory of ../shared/data/tokenizers that holds a
// tokenizer.json. Run from tokenizer/testdata:
//   NODE_PATH=/work/ref/node/node_modules node gen_hfvectors.mjs ../../../shared/data/tokenizers
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Tokenizer } = require(process.env.NODE_PATH + "/@huggingface/tokenizers");

const texts = [
  "Hello world",
  " Hello world",
  "Hello World!  How are you?\n\nI'm fine, thanks. You'RE sure? We'Ve been here.",
  "The year 2024 had 365 days; π≈3.14159, 1,234,567.89 and 2³ = 8, x² + y².",
  "1 12 123 1234 12345 123456 1234567 00000007",
  "def fib(n):\n    if n < 2:\n        return n\n    return fib(n-1) + fib(n-2)\n",
  "for (int i = 0; i < 10; ++i) {\n\tprintf(\"%d\\n\", i);\n}\n",
  "   leading spaces, trailing spaces   ",
  "tabs\tand\t\ttabs\n\n\n\nnewlines \r\n crlf",
  "     \n\n  \t \t\n",
  "Привет, мир! Как дела?",
  "こんにちは世界。今日はいい天気ですね。",
  "我想在北京工作1314151天～你好，世界！",
  "안녕하세요 세계, 한국어 텍스트입니다.",
  "مرحبا بالعالم، هذا نص عربي.",
  "नमस्ते दुनिया, यह हिंदी है।",
  "Ελληνικά: Γειά σου Κόσμε. Ωραία!",
  "Cửa Việt, Tiếng Việt có dấu: ồ ạ ữ.",
  "កាន់តែពិសេសអាចខលចេញ",
  "Emoji: 🚀🦙😁 👍🏽 👨‍👩‍👧‍👦 😶‍🌫️ ✅ 🇫🇷",
  "MixedCase camelCase snake_case SCREAMING_CASE HTTPServer iPhone",
  "URL https://example.com/path?q=1&x=y#frag and email a.b@c.de",
  "<html><body class=\"x\">&amp; &lt;tag&gt;</body></html>",
  "''''''```````\"\"\"\"......!!!!!!?????? ------=======",
  "é vs e\u0301 (NFC and NFD), ﬁ ligature, Ｆｕｌｌｗｉｄｔｈ",
  "<|im_start|>user\nHi<|im_end|>",
  "<s> [INST] hello [/INST]</s>",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
  "<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>",
  "<｜begin▁of▁sentence｜>### Instruction:\nwrite code",
];

const root = process.argv[2];
const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), "hfvectors");
for (const dir of fs.readdirSync(root).sort()) {
  const tj = path.join(root, dir, "tokenizer.json");
  if (!fs.existsSync(tj)) continue;
  const cfgPath = path.join(root, dir, "tokenizer_config.json");
  const cfg = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, "utf8")) : {};
  const tok = new Tokenizer(JSON.parse(fs.readFileSync(tj, "utf8")), cfg);
  const cases = texts.map((text) => ({
    text,
    ids: tok.encode(text, { add_special_tokens: false }).ids,
    ids_with_special: tok.encode(text, { add_special_tokens: true }).ids,
  }));
  const out = { tool: "@huggingface/tokenizers 0.2.0", node: process.version, dir, cases };
  fs.writeFileSync(path.join(outDir, dir + ".json"), JSON.stringify(out) + "\n");
  console.log(dir, cases.length);
}
