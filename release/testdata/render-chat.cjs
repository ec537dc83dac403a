const { Template } = require("@huggingface/jinja");
const fs = require("fs");
const base = "/work/shared/data/tokenizers/";
const cases = {
  "llama3": [{role:"user",content:"Hi there"},{role:"assistant",content:"Hello! How can I help?"},{role:"user",content:"Tell me a joke."}],
  "qwen2.5": [{role:"system",content:"You are terse."},{role:"user",content:"Hi there"},{role:"assistant",content:"Hello! How can I help?"},{role:"user",content:"Tell me a joke."}],
  "qwen3": [{role:"system",content:"You are terse."},{role:"user",content:"Hi there"},{role:"assistant",content:"Hello! How can I help?"},{role:"user",content:"Tell me a joke."}],
  "gemma-2-9b-it-configs": [{role:"user",content:"Hi there"},{role:"assistant",content:"Hello! How can I help?"},{role:"user",content:"Tell me a joke."}],
  "phi-3-mini": [{role:"user",content:"Hi there"},{role:"assistant",content:"Hello! How can I help?"},{role:"user",content:"Tell me a joke."}],
  "mistral-nemo": [{role:"user",content:"Hi there"},{role:"assistant",content:"Hello! How can I help?"},{role:"user",content:"Tell me a joke."}],
};
const out = {};
for (const [dir, messages] of Object.entries(cases)) {
  const cfg = JSON.parse(fs.readFileSync(base + dir + "/tokenizer_config.json"));
  let tmpl = cfg.chat_template;
  if (Array.isArray(tmpl)) tmpl = tmpl.find(t => t.name === "default").template;
  const tok = (x) => (x && typeof x === "object") ? x.content : (x ?? "");
  const text = new Template(tmpl).render({messages, add_generation_prompt: true, bos_token: tok(cfg.bos_token), eos_token: tok(cfg.eos_token)});
  out[dir] = {bos: tok(cfg.bos_token), messages, text};
}
console.log(JSON.stringify(out, null, 1));
