// The WPS add-in's client: what xlwings' VBA client (Remote.bas) and our helpers (XaHelpers.bas) do in Excel,
// on WPS's ET object model. One click = read the active workbook into xlwings' book JSON, one POST to the county
// server it was served from, then carry out the answer's actions. Nothing in a workbook or an answer chooses code
// to run (no eval, no Application.Run: every action and helper is a fixed function here) or an address to fetch
// (only the origin this add-in was served from).
import { ACTIONS } from "./actions.js";
export const TOKEN_KEY = "xl_addin_token";
const XL_NONE = -4142;
export function text(key, vars = {}) {
    let s = ACTIONS.texts[key];
    for (const [k, v] of Object.entries(vars))
        s = s.split("{" + k + "}").join(v);
    return s;
}
/** XaHex: 4 hex digits per UTF-16 code unit (the server's addin= argument) */
export function hex(s) {
    let out = "";
    for (let i = 0; i < s.length; i++)
        out += s.charCodeAt(i).toString(16).toUpperCase().padStart(4, "0");
    return out;
}
export function colLetter(col) {
    let s = "";
    for (let n = col; n > 0; n = Math.floor((n - 1) / 26))
        s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
    return s;
}
function sheetAt(wb, index1) {
    // Sheets.Item is declared as Worksheet | Sheets (an array index gives Sheets); a number gives one Worksheet
    return wb.Worksheets.Item(index1);
}
function cellValue(v) {
    if (v === undefined || v === null || v === "")
        return null;
    if (typeof v === "number" || typeof v === "string" || typeof v === "boolean")
        return v;
    return String(v);
}
function grid(v) {
    if (Array.isArray(v))
        return v.map((row) => (Array.isArray(row) ? row : [row]).map(cellValue));
    return [[cellValue(v)]];
}
/** The book JSON xlwings' VBA client sends: every worksheet from A1 to the end of its used range, the names. */
export function readBook(app) {
    const wb = app.ActiveWorkbook;
    const sheets = [];
    const count = wb.Worksheets.Count;
    for (let i = 1; i <= count; i++) {
        const ws = sheetAt(wb, i);
        const used = ws.UsedRange;
        const lastRow = used.Row + used.Rows.Count - 1;
        const lastCol = used.Column + used.Columns.Count - 1;
        sheets.push({ name: ws.Name, values: grid(ws.Range("A1:" + colLetter(lastCol) + lastRow).Value2),
            pictures: [], tables: [] });
    }
    const names = [];
    const n = wb.Names.Count;
    for (let i = 1; i <= n; i++) {
        const nm = wb.Names.Item(i);
        let target;
        try {
            target = nm.RefersToRange; // a name of a constant or a broken reference has none
        }
        catch {
            continue;
        }
        if (!target)
            continue;
        const local = nm.Name.includes("!");
        names.push({ name: local ? nm.Name.slice(nm.Name.indexOf("!") + 1) : nm.Name,
            sheet_index: target.Worksheet.Index - 1, address: target.Address(false, false),
            book_scope: !local, scope_sheet_name: local ? target.Worksheet.Name : null,
            scope_sheet_index: local ? target.Worksheet.Index - 1 : null });
    }
    let selection = "A1";
    try {
        selection = app.Selection.Address(false, false) || "A1";
    }
    catch {
        // a shape or nothing selected: xlwings sends A1 then too
    }
    return { client: "VBA", version: ACTIONS.xlwings_version,
        book: { name: wb.Name, active_sheet_index: wb.ActiveSheet.Index - 1, selection }, names, sheets };
}
// ---- the answer's actions -----------------------------------------------------------------------------------------
function target(wb, a) {
    var _a, _b, _c, _d, _e;
    const ws = sheetAt(wb, ((_a = a.sheet_position) !== null && _a !== void 0 ? _a : 0) + 1);
    const r = ((_b = a.start_row) !== null && _b !== void 0 ? _b : 0) + 1, c = ((_c = a.start_column) !== null && _c !== void 0 ? _c : 0) + 1;
    return ws.Range(colLetter(c) + r).Resize((_d = a.row_count) !== null && _d !== void 0 ? _d : 1, (_e = a.column_count) !== null && _e !== void 0 ? _e : 1);
}
function rgb(hexColor) {
    const v = /^#?([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})$/.exec(hexColor);
    if (!v)
        throw new Error("bad colour");
    return parseInt(v[1], 16) + parseInt(v[2], 16) * 256 + parseInt(v[3], 16) * 65536; // VBA's RGB()
}
/** index!A1 (1-based sheet position, as our helpers get it) */
function place(wb, item) {
    const bang = item.indexOf("!");
    const index = Number(item.slice(0, bang));
    if (bang < 1 || !Number.isInteger(index) || index < 1 || index > wb.Worksheets.Count)
        throw new Error("bad place");
    const a1 = item.slice(bang + 1);
    if (!/^[A-Z]{1,3}[0-9]{1,7}(:[A-Z]{1,3}[0-9]{1,7})?$/.test(a1))
        throw new Error("bad place");
    return { ws: sheetAt(wb, index), a1 };
}
class Helpers {
    constructor(wb, env) {
        this.wb = wb;
        this.env = env;
        this.stopped = false;
    }
    failed(e, message = text("write_failed")) {
        this.stopped = true;
        this.env.ui.alert(message + " (" + String(e instanceof Error ? e.message : e) + ")", true);
    }
    guard(password, sheets, failure) {
        try {
            for (const item of sheets.split(",")) {
                if (!item)
                    continue;
                const [index, flags] = item.split(":").map(Number);
                const ws = place(this.wb, index + "!A1").ws;
                ws.Protect(password, true, true, true, true, false, false, (flags & 1) !== 0, false, false, false, false, false, false, (flags & 2) !== 0);
            }
        }
        catch (e) {
            this.failed(e, failure);
        }
    }
    /** each "index!A1<sep>value" item of the ";"-separated spec: apply(ws, a1, value); a failure stops the rest */
    each(spec, sep, apply) {
        if (this.stopped)
            return;
        try {
            for (const item of spec.split(";")) {
                if (!item)
                    continue;
                const at = item.indexOf(sep);
                const { ws, a1 } = place(this.wb, item.slice(0, at));
                apply(ws, a1, item.slice(at + 1));
            }
        }
        catch (e) {
            this.failed(e);
        }
    }
    paint(spec) {
        this.each(spec, "=", (ws, a1, colour) => {
            const interior = ws.Range(a1).Interior;
            if (colour === "")
                interior.Pattern = XL_NONE;
            else
                interior.Color = rgb(colour);
        });
    }
    write(spec) {
        this.each(spec, "|", (ws, a1, formula) => {
            ws.Range(a1).Formula = formula;
        });
    }
    writeRows(where, block) {
        if (this.stopped)
            return;
        try {
            const rows = block.split(ACTIONS.row_sep).map((line) => line.split(ACTIONS.cell_sep));
            const width = Math.max(1, ...rows.map((r) => r.length));
            const arr = rows.map((r) => r.concat(Array(width - r.length).fill("")));
            const { ws, a1 } = place(this.wb, where);
            // one write of the block; a text starting with "=" is entered as a formula, as XaWriteRows' .Formula does
            ws.Range(a1).Resize(arr.length, width).Value2 = arr;
        }
        catch (e) {
            this.failed(e);
        }
    }
    follow(path) {
        // XaFollow: a path of the county server only, never another address
        if (!path.startsWith("/") || path.includes("//") || path.includes("@") || path.includes("\\")) {
            this.env.ui.alert(text("link_refused"), true);
            return;
        }
        this.env.ui.open(this.env.origin + path);
    }
}
function str(v) {
    return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}
/** Carry out an answer's actions on the workbook, as Remote.bas and XaHelpers.bas do in Excel. */
export function applyActions(env, wb, actions) {
    var _a;
    const h = new Helpers(wb, env);
    const helpers = ACTIONS.helpers;
    for (const a of actions) {
        const args = Array.isArray(a.args) ? a.args : [];
        switch (a.func) {
            case "alert":
                env.ui.alert(str(args[0]), str(args[3]) === "critical");
                break;
            case "activateSheet":
                sheetAt(wb, Number(args[0]) + 1).Activate();
                break;
            case "setValues":
                target(wb, a).Value2 = ((_a = a.values) !== null && _a !== void 0 ? _a : []).map((row) => row.map((v) => (v === null ? "" : v)));
                break;
            case "rangeClearContents":
                target(wb, a).ClearContents();
                break;
            case "setRangeColor":
                target(wb, a).Interior.Color = rgb(str(args[0]));
                break;
            case "runMacro": {
                const full = str(args[0]);
                const macro = full.slice(full.lastIndexOf("!") + 1); // 'add-in name'!Module.Macro -> Module.Macro
                if (macro === helpers.guard)
                    h.guard(str(args[1]), str(args[2]), str(args[3]));
                else if (macro === helpers.paint)
                    h.paint(str(args[1]));
                else if (macro === helpers.write)
                    h.write(str(args[1]));
                else if (macro === helpers.write_rows)
                    h.writeRows(str(args[1]), str(args[2]));
                else if (macro === helpers.follow)
                    h.follow(str(args[1]));
                else
                    env.ui.alert(text("unknown_action", { name: macro }), true);
                break;
            }
            default:
                env.ui.alert(text("unknown_action", { name: String(a.func).slice(0, 40) }), true);
        }
    }
}
// ---- a click ------------------------------------------------------------------------------------------------------
function isServerText(body) {
    const t = body.trim();
    return t.length > 0 && t.length <= 300 && !t.startsWith("<") && !t.startsWith("{") && /[\u2e80-\uffff]/.test(t);
}
export function httpMessage(env, status, body) {
    const known = { 401: "http_401", 403: "http_401", 413: "http_413", 429: "http_429",
        503: "http_503" };
    let t = known[status] ? text(known[status]) : text("http_other") + " " + status;
    if (isServerText(body))
        t = body.trim();
    return t + "\n\n" + text("server_is") + env.origin;
}
/** The token in the add-in's own address, ACTIONS.installed_path + token + "/" (the installers' --token-file). */
export function tokenFromPath(pathname) {
    if (!pathname.startsWith(ACTIONS.installed_path))
        return null;
    const t = pathname.slice(ACTIONS.installed_path.length).split("/")[0];
    return new RegExp(ACTIONS.token_pattern).test(t) ? t : null;
}
function token(env) {
    var _a;
    if (env.installed)
        return env.installed;
    let t = env.storage.get(TOKEN_KEY);
    if (!t) {
        t = ((_a = env.ui.prompt(text("ask_token"))) !== null && _a !== void 0 ? _a : "").trim();
        if (!t)
            return null;
        env.storage.set(TOKEN_KEY, t);
    }
    return t;
}
function agencyKey(wb, name) {
    try {
        const props = wb.CustomDocumentProperties;
        return str(props.Item(name).Value).trim();
    }
    catch {
        return "";
    }
}
/** One button of the county server: one request, then the answer's writes. Returns the HTTP status (0: none). */
export async function click(env, endpoint) {
    if (!Object.prototype.hasOwnProperty.call(ACTIONS.endpoints, endpoint))
        return 0;
    const wb = env.app.ActiveWorkbook;
    if (!wb) {
        env.ui.alert(text("no_book"), true);
        return 0;
    }
    const auth = token(env);
    if (!auth) {
        env.ui.alert(text("no_token"), true);
        return 0;
    }
    const body = JSON.stringify(readBook(env.app));
    const headers = { "Content-Type": "application/json", Authorization: "Bearer " + auth };
    const key = agencyKey(wb, ACTIONS.submit.key_property);
    if (key && /^[\x21-\x7e]{1,256}$/.test(key))
        headers[ACTIONS.submit.key_header] = key;
    const url = env.origin + ACTIONS.prefix + "/" + endpoint + "?addin=" + hex(ACTIONS.addin_name);
    let status, answer;
    try {
        const r = await env.fetch(url, { method: "POST", headers, body });
        status = r.status;
        answer = await r.text();
    }
    catch {
        env.ui.alert(text("server_down", { origin: env.origin }), true);
        return 0;
    }
    if (status !== 200) {
        if (status === 401 && env.installed) { // asking would not help: the address carries the old token
            env.ui.alert(text("installed_token_bad") + "\n\n" + text("server_is") + env.origin, true);
            return status;
        }
        if (status === 401)
            env.storage.remove(TOKEN_KEY); // asked again at the next click
        env.ui.alert(httpMessage(env, status, answer), true);
        return status;
    }
    let actions;
    try {
        const data = JSON.parse(answer);
        if (!Array.isArray(data.actions))
            throw new Error("no actions");
        actions = data.actions;
    }
    catch {
        env.ui.alert(text("bad_answer"), true);
        return status;
    }
    try {
        applyActions(env, wb, actions);
    }
    catch (e) {
        env.ui.alert(text("run_failed") + "\n\n(" + String(e instanceof Error ? e.message : e) + ")", true);
    }
    return status;
}
/** 提交: the saved file as it is on disk to the round's route, with the agency's key (XaRound.bas). */
export async function submit(env) {
    const wb = env.app.ActiveWorkbook;
    if (!wb) {
        env.ui.alert(text("no_book"), true);
        return 0;
    }
    const key = agencyKey(wb, ACTIONS.submit.key_property);
    if (!key) {
        env.ui.alert(text("submit_not_distributed"), true);
        return 0;
    }
    const server = agencyKey(wb, ACTIONS.submit.server_property).replace(/\/+$/, "");
    if (server !== env.origin) {
        env.ui.alert(text("submit_other_server") + "\n\n" + text("submit_book_server") + server + "\n" +
            text("server_is") + env.origin, true);
        return 0;
    }
    if (!wb.Path) {
        env.ui.alert(text("submit_never_saved"), true);
        return 0;
    }
    if (!wb.Saved) {
        if (!env.ui.confirm(text("submit_save_first")))
            return 0;
        try {
            wb.Save();
        }
        catch {
            env.ui.alert(text("submit_save_failed"), true);
            return 0;
        }
    }
    const data = env.readFile(wb.FullName);
    if (!data) {
        env.ui.alert(text("submit_unreadable") + "\n" + wb.FullName, true);
        return 0;
    }
    let status, answer;
    try {
        const r = await env.fetch(env.origin + ACTIONS.submit.path + "?filename=" + encodeURIComponent(wb.Name), {
            method: "POST", body: data,
            headers: { Authorization: "Bearer " + key, "Content-Type": ACTIONS.submit.content_type, Accept: "text/plain" },
        });
        status = r.status;
        answer = await r.text();
    }
    catch {
        env.ui.alert(text("server_down", { origin: env.origin }), true);
        return 0;
    }
    const shown = answer.length > 3000 ? answer.slice(0, 3000) + "…" : answer;
    if (status === 200 || status === 201)
        env.ui.alert(text("submit_done") + "\n\n" + shown, false);
    else if (isServerText(answer) || (/[\u2e80-\uffff]/.test(answer) && !answer.trim().startsWith("<")))
        env.ui.alert(text("submit_refused") + "\n\n" + shown + (status === 422 ? "\n\n" + text("submit_see_validate") : ""), true);
    else
        env.ui.alert(httpMessage(env, status, answer), true);
    return status;
}
