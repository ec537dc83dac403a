// Regenerates hfjs-renders.json: each template of hfjs-cases.json (the real
// chat templates and inputs of @huggingface/jinja's own end-to-end tests)
// rendered by @huggingface/jinja with its input. See README.md.
//
//   cd chat/testdata && NODE_PATH=/work/ref/node/node_modules node gen_hfjs.mjs > hfjs-renders.json
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Template } = require("@huggingface/jinja");

// The clock of those tests: 2025-07-10T12:00:00Z.
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...args) {
    if (args.length === 0) super("2025-07-10T12:00:00.000Z");
    else super(...args);
  }
  static now() {
    return new RealDate("2025-07-10T12:00:00.000Z").getTime();
  }
};

const cases = JSON.parse(fs.readFileSync("hfjs-cases.json", "utf8"));
const out = {};
for (const [name, c] of Object.entries(cases)) {
  try {
    out[name] = { output: new Template(c.chat_template).render(structuredClone(c.data)) };
  } catch (e) {
    out[name] = { error: e.message };
  }
}
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
