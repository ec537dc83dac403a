// Regenerates renders.json: every template of templates.json rendered with every
// case of cases.json by Hugging Face's @huggingface/jinja (the chat-template engine
// of transformers.js), add_generation_prompt off and on. See README.md.
//
//   cd chat/testdata && NODE_PATH=/work/ref/node/node_modules node gen.mjs ../../../shared > renders.json
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Template } = require("@huggingface/jinja");

// A fixed clock, so that templates calling strftime_now (Llama 3.x) render
// the same date every time: Friday 26 July 2024, 14:05 local time.
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(2024, 6, 26, 14, 5, 0);
    else super(...args);
  }
};

const shared = process.argv[2];
if (!shared) throw new Error("usage: node gen.mjs SHARED_DIR");

const tokenText = (t) => (t == null ? undefined : typeof t === "string" ? t : t.content);

function loadTemplate(spec) {
  if (spec.path.startsWith("shared:")) {
    const dir = path.join(shared, spec.path.slice("shared:".length));
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
    let tpl = cfg.chat_template;
    if (Array.isArray(tpl)) tpl = tpl.find((t) => t.name === "default").template;
    return { source: tpl, bos_token: tokenText(cfg.bos_token), eos_token: tokenText(cfg.eos_token) };
  }
  return { source: fs.readFileSync(spec.path, "utf8"), bos_token: spec.bos_token, eos_token: spec.eos_token };
}

const templates = JSON.parse(fs.readFileSync("templates.json", "utf8"));
const cases = JSON.parse(fs.readFileSync("cases.json", "utf8"));
const out = {};
for (const [name, spec] of Object.entries(templates)) {
  const t = loadTemplate(spec);
  const tpl = new Template(t.source);
  const renders = {};
  for (const [cname, c] of Object.entries(cases)) {
    if (c.tools_only && !t.source.includes("tools")) continue;
    for (const gen of [false, true]) {
      const ctx = { messages: c.messages, add_generation_prompt: gen, ...(c.vars ?? {}) };
      if (t.bos_token !== undefined) ctx.bos_token = t.bos_token;
      if (t.eos_token !== undefined) ctx.eos_token = t.eos_token;
      if (c.tools) ctx.tools = c.tools;
      const key = `${cname}/${gen ? "gen" : "nogen"}`;
      try {
        renders[key] = { output: tpl.render(structuredClone(ctx)) };
      } catch (e) {
        renders[key] = { error: e.message };
      }
    }
  }
  out[name] = { bos_token: t.bos_token ?? null, eos_token: t.eos_token ?? null, renders };
}
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
