// A fake of WPS's ET object model: a workbook of worksheets and ranges that keeps cell values, formulas and
// fills, and records every call (log) -- enough for the client's reads and writes, nothing more.
export function colNumber(letters) {
  let n = 0;
  for (const ch of letters) n = n * 26 + ch.charCodeAt(0) - 64;
  return n;
}
function colLetter(col) {
  let s = "";
  for (let n = col; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}
function parseA1(a1) {
  const m = /^([A-Z]+)([0-9]+)$/.exec(a1);
  if (!m) throw new Error("fake: bad cell " + a1);
  return [Number(m[2]), colNumber(m[1])];
}

class Interior {
  constructor(range) { this.range = range; }
  set Color(v) { this.range.each((s, r, c) => s.fills.set(r + "," + c, v)); this.range.sheet.book.log.push(["Interior.Color", this.range.label(), v]); }
  get Color() { return this.range.sheet.fills.get(this.range.r + "," + this.range.c) ?? null; }
  set Pattern(v) { this.range.each((s, r, c) => s.fills.delete(r + "," + c)); this.range.sheet.book.log.push(["Interior.Pattern", this.range.label(), v]); }
}

export class Range {
  constructor(sheet, r, c, rows = 1, cols = 1) { Object.assign(this, { sheet, r, c, rows, cols }); }
  each(fn) { for (let i = 0; i < this.rows; i++) for (let j = 0; j < this.cols; j++) fn(this.sheet, this.r + i, this.c + j, i, j); }
  label() { return this.sheet.Name + "!" + this.Address(false, false); }
  get Row() { return this.r; }
  get Column() { return this.c; }
  get Rows() { return { Count: this.rows }; }
  get Columns() { return { Count: this.cols }; }
  get Worksheet() { return this.sheet; }
  get Interior() { return new Interior(this); }
  Address() {
    const a = colLetter(this.c) + this.r;
    return this.rows === 1 && this.cols === 1 ? a : a + ":" + colLetter(this.c + this.cols - 1) + (this.r + this.rows - 1);
  }
  Resize(rows, cols) { return new Range(this.sheet, this.r, this.c, rows ?? this.rows, cols ?? this.cols); }
  get Value2() {
    this.sheet.book.log.push(["Value2.get", this.label()]);
    const out = [];
    for (let i = 0; i < this.rows; i++) {
      const row = [];
      for (let j = 0; j < this.cols; j++) row.push(this.sheet.cells.get((this.r + i) + "," + (this.c + j)));
      out.push(row);
    }
    return this.rows === 1 && this.cols === 1 ? out[0][0] : out;
  }
  set Value2(v) {
    this.sheet.book.log.push(["Value2.set", this.label()]);
    if (this.sheet.locked()) throw new Error("fake: the sheet is protected");
    this.each((s, r, c, i, j) => s.put(r, c, Array.isArray(v) ? v[i][j] : v));
  }
  set Formula(v) {
    this.sheet.book.log.push(["Formula.set", this.label()]);
    if (this.sheet.locked()) throw new Error("fake: the sheet is protected");
    this.each((s, r, c) => s.put(r, c, v));
  }
  ClearContents() { this.sheet.book.log.push(["ClearContents", this.label()]); this.each((s, r, c) => s.cells.delete(r + "," + c)); }
}

export class Worksheet {
  constructor(book, index, name, values) {
    Object.assign(this, { book, Index: index, Name: name, cells: new Map(), fills: new Map(), protectedFor: null });
    this.usedRows = 0; this.usedCols = 0;
    values.forEach((row, i) => row.forEach((v, j) => { if (v !== null) this.cells.set((i + 1) + "," + (j + 1), v); }));
    this.usedRows = Math.max(1, values.length);
    this.usedCols = Math.max(1, ...values.map((r) => r.length));
  }
  put(r, c, v) {
    if (v === "" || v === null || v === undefined) this.cells.delete(r + "," + c); else this.cells.set(r + "," + c, v);
    this.usedRows = Math.max(this.usedRows, r); this.usedCols = Math.max(this.usedCols, c);
  }
  locked() { return this.protectedFor === "user"; }
  get UsedRange() { return new Range(this, 1, 1, this.usedRows, this.usedCols); }
  Range(a1) {
    const [a, b] = a1.split(":");
    const [r, c] = parseA1(a);
    if (!b) return new Range(this, r, c);
    const [r2, c2] = parseA1(b);
    return new Range(this, r, c, r2 - r + 1, c2 - c + 1);
  }
  Activate() { this.book.log.push(["Activate", this.Name]); this.book.active = this; }
  Protect(password, drawing, contents, scenarios, uiOnly) {
    this.book.log.push(["Protect", this.Name, uiOnly]);
    if (password !== this.book.password) throw new Error("fake: wrong password");
    this.protectedFor = uiOnly ? "code" : "user";
  }
  text(a1) { const [r, c] = parseA1(a1); return this.cells.get(r + "," + c); }
  fill(a1) { const [r, c] = parseA1(a1); return this.fills.get(r + "," + c); }
}

/** A workbook from xlwings' book JSON (the payload the VBA client sends). */
export function workbookFrom(payload, { password = "gknb2021", props = {} } = {}) {
  const book = { log: [], password, Name: payload.book.name, Path: "C:\\报表", Saved: true };
  book.FullName = book.Path + "\\" + book.Name;
  book.sheets = payload.sheets.map((s, i) => new Worksheet(book, i + 1, s.name, s.values));
  book.sheets.forEach((s) => { s.protectedFor = "user"; });
  book.active = book.sheets[payload.book.active_sheet_index];
  book.Worksheets = { get Count() { return book.sheets.length; }, Item: (i) => book.sheets[i - 1] };
  const names = payload.names.map((n) => ({ Name: n.name, get RefersToRange() { return book.sheets[n.sheet_index].Range(n.address); } }));
  book.Names = { Count: names.length, Item: (i) => names[i - 1] };
  Object.defineProperty(book, "ActiveSheet", { get: () => book.active });
  book.CustomDocumentProperties = { Item: (k) => { if (!(k in props)) throw new Error("no property " + k); return { Name: k, Value: props[k] }; } };
  book.Save = () => { book.log.push(["Save"]); book.Saved = true; };
  const app = { ActiveWorkbook: book, get Selection() { return book.active.Range(payload.book.selection); } };
  return { app, book };
}
