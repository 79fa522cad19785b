// The WPS client (xl_addin/wps/*.js, built from wps/src) against the real county server, on a fake ET workbook.
// Run by tests/test_wps.py, which starts the server and writes the fixtures:
//   WPS_FIXTURES/payload.json   a failing workbook as xlwings' VBA client sends it (tests/xlwings_payload.py)
//   WPS_FIXTURES/expected.json  what `xl-addin check` finds in that workbook: verdict, results rows, marked cells
//   XA_ORIGIN, XA_TOKEN         the live server and its token
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { workbookFrom } from "./fake_et.mjs";
import { applyActions, click, readBook, submit, tokenFromPath, TOKEN_KEY } from "../../xl_addin/wps/client.js";
import { ACTIONS } from "../../xl_addin/wps/actions.js";

const dir = process.env.WPS_FIXTURES;
const origin = process.env.XA_ORIGIN;
const token = process.env.XA_TOKEN;
if (!dir || !origin || !token) throw new Error("run me from tests/test_wps.py (WPS_FIXTURES, XA_ORIGIN, XA_TOKEN)");
const payload = JSON.parse(readFileSync(join(dir, "payload.json"), "utf-8"));
const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf-8"));

function makeEnv(app, { base = origin, stored = token, fetchImpl = fetch, answers = [], installed = null } = {}) {
  const store = new Map(stored ? [[TOKEN_KEY, stored]] : []);
  const env = {
    app, origin: base, alerts: [], opened: [], requests: [], answers, installed, prompts: [],
    ui: {
      alert: (t, critical) => env.alerts.push({ text: t, critical }),
      confirm: () => true,
      prompt: (t) => { env.prompts.push(t); return null; },
      open: (url) => env.opened.push(url),
    },
    storage: { get: (k) => store.get(k) ?? null, set: (k, v) => store.set(k, v), remove: (k) => store.delete(k) },
    store,
    readFile: () => new Uint8Array([80, 75, 3, 4]).buffer,
    fetch: async (url, init) => {
      env.requests.push({ url, init });
      const r = await fetchImpl(url, init);
      const body = await r.text();
      env.answers.push(body);
      return { status: r.status, text: async () => body };
    },
  };
  return env;
}

const rgb = (hex) => parseInt(hex.slice(0, 2), 16) + parseInt(hex.slice(2, 4), 16) * 256 + parseInt(hex.slice(4, 6), 16) * 65536;

test("the book JSON read from the fake workbook is the payload xlwings' VBA client sends", () => {
  const { app } = workbookFrom(payload);
  assert.deepEqual(JSON.parse(JSON.stringify(readBook(app))), payload);
});

test("校验 on a failing workbook: one request, the marks, results sheet and message of xl-addin check", async () => {
  const { app, book } = workbookFrom(payload);
  const env = makeEnv(app);
  assert.equal(await click(env, "validate"), 200);
  assert.equal(env.requests.length, 1);
  const req = env.requests[0];
  assert.equal(req.url, origin + "/xl_addin/validate?addin=" + [...ACTIONS.addin_name].map((c) => c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")).join(""));
  assert.equal(req.init.headers.Authorization, "Bearer " + token);
  assert.deepEqual(JSON.parse(req.init.body), payload);
  assert.deepEqual(env.alerts.map((a) => a.text), [expected.verdict]);
  assert.equal(env.alerts[0].critical, true);
  const results = book.sheets.find((s) => s.Name === expected.results_sheet);
  expected.results.forEach((row, i) => row.forEach((want, j) => {
    const a1 = String.fromCharCode(65 + j) + (i + 1);
    assert.equal(String(results.text(a1) ?? ""), want, `${expected.results_sheet}!${a1}`);
  }));
  for (const [where, hex] of Object.entries(expected.marks)) {
    const [sheet, a1] = where.split("!");
    assert.equal(book.sheets.find((s) => s.Name === sheet).fill(a1), rgb(hex), `mark of ${where}`);
  }
  for (const where of expected.unmarked_inputs) {
    const [sheet, a1] = where.split("!");
    assert.notEqual(book.sheets.find((s) => s.Name === sheet).fill(a1), rgb("FFC7CE"), `no error mark on ${where}`);
  }
  for (const where of expected.inputs) {  // the clerk's figures are never changed
    const [sheet, a1] = where.split("!");
    const index = payload.sheets.findIndex((s) => s.name === sheet);
    const m = /^([A-Z]+)([0-9]+)$/.exec(a1);
    const col = [...m[1]].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0);
    const before = payload.sheets[index].values[Number(m[2]) - 1]?.[col - 1] ?? null;
    assert.equal(book.sheets[index].text(a1) ?? null, before, `input ${where}`);
  }
  assert.equal(book.active.Name, expected.results_sheet);
  // every sheet written was protected again with UserInterfaceOnly first (the fake refuses writes otherwise)
  const written = new Set(book.log.filter((e) => e[0].endsWith(".set") || e[0].startsWith("Interior")).map((e) => e[1].split("!")[0]));
  assert.ok(written.has(expected.results_sheet) && written.size >= 3, [...written].join());
  for (const name of written) assert.equal(book.sheets.find((s) => s.Name === name).protectedFor, "code", name);

  // script time on the fake model for the full template: reading the book and carrying out the answer
  const answer = JSON.parse(env.answers[0]).actions;
  const times = [];
  for (let i = 0; i < 15; i++) {
    const fresh = workbookFrom(payload);
    const t0 = performance.now();
    JSON.stringify(readBook(fresh.app));
    applyActions(makeEnv(fresh.app), fresh.book, answer);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`WPS client script time on the fake model (full template, read + ${answer.length} actions): ` +
              `max ${times.at(-1).toFixed(1)} ms, median ${times[7].toFixed(1)} ms`);
});

test("清除标记 after 校验 gives the template's fills back and says so", async () => {
  const { app, book } = workbookFrom(payload);
  await click(makeEnv(app), "validate");
  const env = makeEnv(app);
  assert.equal(await click(env, "clear_marks"), 200);
  assert.match(env.alerts[0].text, /^已清除/);
  for (const where of Object.keys(expected.marks)) {
    const [sheet, a1] = where.split("!");
    assert.notEqual(book.sheets.find((s) => s.Name === sheet).fill(a1), rgb("FFC7CE"), where);
  }
});

test("a server that is down is told in Chinese, the workbook untouched", async () => {
  const { app, book } = workbookFrom(payload);
  const env = makeEnv(app, { base: "http://127.0.0.1:9" });
  assert.equal(await click(env, "validate"), 0);
  assert.match(env.alerts[0].text, /连接不上县级服务器（http:\/\/127\.0\.0\.1:9）/);
  assert.ok(!book.log.some((e) => e[0].endsWith(".set") || e[0] === "Protect"));
});

test("a wrong token: the server's Chinese 401 text, and the token is asked again next time", async () => {
  const { app } = workbookFrom(payload);
  const env = makeEnv(app, { stored: "wrong-token-" + "y".repeat(30) });
  assert.equal(await click(env, "about"), 401);
  assert.match(env.alerts[0].text, /未授权/);
  assert.equal(env.store.has(TOKEN_KEY), false);
  const none = makeEnv(app, { stored: null });
  assert.equal(await click(none, "about"), 0);
  assert.deepEqual(none.alerts.map((a) => a.text), [ACTIONS.texts.no_token]);
  assert.equal(none.requests.length, 0);
});

test("the installer's token in the add-in's address: read from the path, nothing else taken for one", () => {
  assert.equal(tokenFromPath("/wps/t/" + token + "/index.html"), token);
  assert.equal(tokenFromPath("/wps/t/" + token + "/"), token);
  for (const p of ["/wps/index.html", "/wps/t//index.html", "/wps/t/short/index.html", "/wps/t/a%22b" + "c".repeat(20) + "/",
                   "/other/t/" + token + "/", "/wps/t/" + "x".repeat(129) + "/"])
    assert.equal(tokenFromPath(p), null, p);
});

test("a token installed in the address is used without asking; when it is refused, the clerk is told to reinstall", async () => {
  const { app } = workbookFrom(payload);
  const env = makeEnv(app, { stored: null, installed: token });
  assert.equal(await click(env, "about"), 200);
  assert.equal(env.requests[0].init.headers.Authorization, "Bearer " + token);
  assert.deepEqual(env.prompts, []);
  assert.equal(env.store.size, 0);  // nothing kept in the WPS profile: the address holds it
  const old = makeEnv(app, { stored: null, installed: "old-token-" + "z".repeat(30) });
  assert.equal(await click(old, "about"), 401);
  assert.deepEqual(old.prompts, []);
  assert.equal(old.alerts.length, 1);
  assert.ok(old.alerts[0].text.startsWith(ACTIONS.texts.installed_token_bad), old.alerts[0].text);
  assert.ok(old.alerts[0].text.includes(origin));
});

test("an answer cannot run other code or open another address", () => {
  const { app, book } = workbookFrom(payload);
  const env = makeEnv(app);
  const act = (func, args) => ({ func, args, values: null, sheet_position: null, start_row: null, start_column: null, row_count: null, column_count: null });
  applyActions(env, book, [
    act("runMacro", ["'x.xlam'!XaHelpers.XaFollow", "/xl_addin/files/abc?exp=1&sig=2"]),
    act("runMacro", ["'x.xlam'!XaHelpers.XaFollow", "//evil.example/x"]),
    act("runMacro", ["'x.xlam'!XaHelpers.XaFollow", "/@evil.example"]),
    act("runMacro", ["'Book.xlsm'!Module1.Evil", "x"]),
    act("eval", ["globalThis.pwned = 1"]),
  ]);
  assert.deepEqual(env.opened, [origin + "/xl_addin/files/abc?exp=1&sig=2"]);
  assert.equal(globalThis.pwned, undefined);
  assert.equal(env.alerts.length, 4);
  assert.match(env.alerts[3].text, /不认识的操作（eval）/);
  assert.ok(!click.toString().includes("eval("));
});

test("提交 sends the saved file with the agency key to this server only", async () => {
  const seen = [];
  const fake = async (url, init) => { seen.push({ url, init }); return new Response("回执号 R-1", { status: 201 }); };
  const ok = workbookFrom(payload, { props: { xl_addin_key: "agency-key-1", xl_addin_server: origin + "/" } });
  const env = makeEnv(ok.app, { fetchImpl: fake });
  assert.equal(await submit(env), 201);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].url, origin + "/round/api/submit?filename=" + encodeURIComponent(payload.book.name));
  assert.equal(seen[0].init.headers.Authorization, "Bearer agency-key-1");
  assert.match(env.alerts[0].text, /^提交成功。/);
  const other = workbookFrom(payload, { props: { xl_addin_key: "agency-key-1", xl_addin_server: "http://evil.example" } });
  const env2 = makeEnv(other.app, { fetchImpl: fake });
  assert.equal(await submit(env2), 0);
  assert.equal(seen.length, 1);
  assert.match(env2.alerts[0].text, /另一台服务器/);
  const plain = workbookFrom(payload);
  const env3 = makeEnv(plain.app, { fetchImpl: fake });
  assert.equal(await submit(env3), 0);
  assert.match(env3.alerts[0].text, /不是县级服务器下发的年报模板/);
});
