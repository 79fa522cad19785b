// The WPS client's script time on the fake ET model for a full template (target ≤ 50 ms a click): reading the
// workbook into the book JSON, and carrying out a recorded answer of each button. Run by bench/wps_client.py:
//   node wps/test/bench_client.mjs DIR    (DIR/payload.json, DIR/<button>.json: the server's answers)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { workbookFrom } from "./fake_et.mjs";
import { applyActions, readBook } from "../../xl_addin/wps/client.js";

const dir = process.argv[2];
const payload = JSON.parse(readFileSync(join(dir, "payload.json"), "utf-8"));
const ui = { alert() {}, confirm: () => true, prompt: () => null, open() {} };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (name, xs) => `${name.padEnd(44)} median ${median(xs).toFixed(1).padStart(8)} ms   max ${Math.max(...xs).toFixed(1).padStart(8)} ms   n=${xs.length}   (target ≤ 50 ms)`;

const reads = [];
for (let i = 0; i < 30; i++) {
  const { app } = workbookFrom(payload);
  const t0 = performance.now();
  JSON.stringify(readBook(app));
  reads.push(performance.now() - t0);
}
console.log(fmt("WPS client: read the workbook (book JSON)", reads));
for (const button of process.argv.slice(3)) {
  const actions = JSON.parse(readFileSync(join(dir, button + ".json"), "utf-8")).actions;
  const times = [];
  for (let i = 0; i < 30; i++) {
    const { app, book } = workbookFrom(payload);
    const t0 = performance.now();
    JSON.stringify(readBook(app));
    applyActions({ app, origin: "http://127.0.0.1", ui, storage: null, fetch: null, readFile: null }, book, actions);
    times.push(performance.now() - t0);
  }
  console.log(fmt(`WPS client: ${button} (read + ${actions.length} actions)`, times));
}
