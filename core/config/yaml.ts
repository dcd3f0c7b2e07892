// A small YAML reader for etcd config files: block mappings ("key: value", nested by
// indentation), block sequences ("- item"), flow sequences ("[a, b]"), plain, single- and
// double-quoted scalars, comments, and a leading "---". Anything else (anchors, aliases,
// tags, multi-line and block scalars, flow mappings other than {}) is refused with an error
// rather than misread. Scalars keep their text; resolveScalar gives the YAML 1.1 meaning
// (as go-yaml v2, which etcd uses: yes/no/on/off are booleans).

export type YamlNode =
  | { kind: "scalar"; text: string; quoted: boolean; line: number }
  | { kind: "seq"; items: YamlNode[]; line: number }
  | { kind: "map"; entries: Map<string, YamlNode>; line: number };

export type YamlResult = { ok: true; value: YamlNode | null } | { ok: false; error: string };

class YamlError extends Error {}

interface Line {
  no: number;
  indent: number;
  text: string; // without indentation and comment
}

const fail = (no: number, msg: string): never => {
  throw new YamlError(`yaml: line ${no}: ${msg}`);
};

/** Cuts a trailing comment ("#" at the start or after a space), outside quotes. */
function stripComment(s: string, no: number): string {
  let quote = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (quote === '"' && c === "\\") i++;
      else if (c === quote) {
        if (quote === "'" && s[i + 1] === "'") i++;
        else quote = "";
      }
      continue;
    }
    if ((c === '"' || c === "'") && (i === 0 || /[\s:\[,\-]/.test(s[i - 1]!))) quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(s[i - 1]!))) return s.slice(0, i).trimEnd();
  }
  if (quote) fail(no, "found unexpected end of stream");
  return s.trimEnd();
}

function lex(text: string): Line[] {
  const out: Line[] = [];
  const raw = text.replace(/^\uFEFF/, "").split("\n");
  let started = false;
  for (let i = 0; i < raw.length; i++) {
    const no = i + 1;
    const line = raw[i]!.replace(/\r$/, "");
    const m = /^( *)(.*)$/.exec(line)!;
    const body = m[2]!;
    if (body.startsWith("\t") && body.trim() !== "") fail(no, "found character that cannot start any token");
    const t = stripComment(body, no);
    if (t === "") continue;
    if (!started && m[1] === "" && (t === "---" || t.startsWith("--- "))) {
      started = true;
      const rest = t.slice(3).trim();
      if (rest !== "") fail(no, "a document start with content on the same line is not supported");
      continue;
    }
    if (m[1] === "" && t === "...") break;
    if (m[1] === "" && t === "---") fail(no, "only one document is supported");
    if (/^%/.test(t) && m[1] === "") fail(no, "directives are not supported");
    started = true;
    out.push({ no, indent: m[1]!.length, text: t });
  }
  return out;
}

function unquoteDouble(s: string, no: number): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = s[++i];
    const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", "/": "/", "0": "\0", " ": " ", a: "\x07", b: "\b", e: "\x1b", f: "\f", v: "\v" };
    if (e !== undefined && simple[e] !== undefined) out += simple[e];
    else if (e === "x" || e === "u" || e === "U") {
      const len = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = s.slice(i + 1, i + 1 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail(no, "did not find expected hexdecimal number");
      out += String.fromCodePoint(parseInt(hex, 16));
      i += len;
    } else fail(no, "found unknown escape character while parsing a quoted scalar");
  }
  return out;
}

/** One scalar written inline: quoted, or plain. */
function scalar(s: string, no: number): YamlNode {
  if (s.startsWith('"')) {
    if (s.length < 2 || !s.endsWith('"') || /(^|[^\\])(\\\\)*"/.test(s.slice(1, -1))) {
      fail(no, "did not find expected key");
    }
    return { kind: "scalar", text: unquoteDouble(s.slice(1, -1), no), quoted: true, line: no };
  }
  if (s.startsWith("'")) {
    const inner = s.slice(1, -1);
    if (s.length < 2 || !s.endsWith("'") || /'/.test(inner.replace(/''/g, ""))) fail(no, "did not find expected key");
    return { kind: "scalar", text: inner.replace(/''/g, "'"), quoted: true, line: no };
  }
  const c = s[0];
  if (c === "&" || c === "*") fail(no, "anchors and aliases are not supported (quote the value)");
  if (c === "!") fail(no, "tags are not supported");
  if (c === "|" || c === ">") fail(no, "block scalars are not supported");
  if (c === "@" || c === "`") fail(no, "found character that cannot start any token");
  if (c === "{") {
    if (/^\{\s*\}$/.test(s)) return { kind: "map", entries: new Map(), line: no };
    fail(no, "flow mappings are not supported");
  }
  if (/: |:$/.test(s)) fail(no, "mapping values are not allowed in this context");
  return { kind: "scalar", text: s, quoted: false, line: no };
}

/** A flow sequence on one line: [a, "b", 'c']. */
function flowSeq(s: string, no: number): YamlNode {
  if (!s.endsWith("]")) fail(no, "did not find expected ',' or ']'");
  const inner = s.slice(1, -1).trim();
  const items: YamlNode[] = [];
  if (inner === "") return { kind: "seq", items, line: no };
  let cur = "";
  let quote = "";
  const push = (): void => {
    const t = cur.trim();
    if (t === "") fail(no, "did not find expected node content");
    if (t.startsWith("[") || t.startsWith("{")) fail(no, "nested flow collections are not supported");
    items.push(scalar(t, no));
    cur = "";
  };
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (quote) {
      cur += c;
      if (quote === '"' && c === "\\") cur += inner[++i] ?? "";
      else if (c === quote) quote = "";
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    if (c === ",") push();
    else cur += c;
  }
  if (cur.trim() !== "" || inner.trimEnd().endsWith(",") === false) push();
  return { kind: "seq", items, line: no };
}

function inlineValue(s: string, no: number): YamlNode {
  return s.startsWith("[") ? flowSeq(s, no) : scalar(s, no);
}

/** Splits "key: value" (or "key:"), with a plain or quoted key. */
function splitKey(text: string, no: number): { key: string; rest: string } | undefined {
  let key: string;
  let after: string;
  if (text.startsWith('"') || text.startsWith("'")) {
    const q = text[0]!;
    let end = 1;
    while (end < text.length && text[end] !== q) end += text[end] === "\\" && q === '"' ? 2 : 1;
    if (end >= text.length) return undefined;
    key = (scalar(text.slice(0, end + 1), no) as { text: string }).text;
    after = text.slice(end + 1);
    if (!after.startsWith(":")) return undefined;
  } else {
    const m = /^([^:]*?(?::(?! |$)[^:]*?)*):( |$)/.exec(text);
    if (!m) return undefined;
    key = m[1]!.trim();
    after = text.slice(m[1]!.length);
    if (key === "" || /^[\[\]{}&*!|>%@`]/.test(key)) return undefined;
  }
  return { key, rest: after.slice(1).trim() };
}

class Parser {
  private i = 0;
  constructor(private readonly lines: Line[]) {}

  parseDocument(): YamlNode | null {
    if (this.lines.length === 0) return null;
    const first = this.lines[0]!;
    const node = this.parseNode(first.indent);
    if (this.i < this.lines.length) fail(this.lines[this.i]!.no, "did not find expected <document start>");
    return node;
  }

  private peek(): Line | undefined {
    return this.lines[this.i];
  }

  private parseNode(indent: number): YamlNode {
    const line = this.peek()!;
    if (line.text === "-" || line.text.startsWith("- ")) return this.parseSeq(indent);
    if (splitKey(line.text, line.no)) return this.parseMap(indent);
    this.i++;
    const node = inlineValue(line.text, line.no);
    const next = this.peek();
    if (next && next.indent > indent) fail(next.no, "multi-line scalars are not supported");
    return node;
  }

  private parseSeq(indent: number): YamlNode {
    const items: YamlNode[] = [];
    const startNo = this.peek()!.no;
    for (let line = this.peek(); line && line.indent === indent; line = this.peek()) {
      if (!(line.text === "-" || line.text.startsWith("- "))) break;
      this.i++;
      const rest = line.text.slice(1).trim();
      if (rest === "") {
        const next = this.peek();
        if (next && next.indent > indent) items.push(this.parseNode(next.indent));
        else items.push({ kind: "scalar", text: "", quoted: false, line: line.no });
      } else {
        if (rest.startsWith("- ") || splitKey(rest, line.no)) fail(line.no, "nested collections inside a sequence item are not supported");
        items.push(inlineValue(rest, line.no));
        const next = this.peek();
        if (next && next.indent > indent) fail(next.no, "did not find expected '-' indicator");
      }
    }
    const next = this.peek();
    if (next && next.indent > indent) fail(next.no, "did not find expected '-' indicator");
    return { kind: "seq", items, line: startNo };
  }

  private parseMap(indent: number): YamlNode {
    const entries = new Map<string, YamlNode>();
    const startNo = this.peek()!.no;
    for (let line = this.peek(); line && line.indent === indent; line = this.peek()) {
      const kv = splitKey(line.text, line.no);
      if (!kv) fail(line.no, "could not find expected ':'");
      const { key, rest } = kv!;
      if (entries.has(key)) fail(line.no, `key ${JSON.stringify(key)} already set in map`);
      this.i++;
      let value: YamlNode;
      if (rest !== "") {
        value = inlineValue(rest, line.no);
        const next = this.peek();
        if (next && next.indent > indent) fail(next.no, "mapping values are not allowed in this context");
      } else {
        const next = this.peek();
        if (next && next.indent > indent) value = this.parseNode(next.indent);
        else if (next && next.indent === indent && (next.text === "-" || next.text.startsWith("- "))) value = this.parseSeq(indent);
        else value = { kind: "scalar", text: "", quoted: false, line: line.no };
      }
      entries.set(key, value);
    }
    const next = this.peek();
    if (next && next.indent > indent) fail(next.no, "did not find expected key");
    return { kind: "map", entries, line: startNo };
  }
}

export function parseYaml(text: string): YamlResult {
  try {
    const lines = lex(text);
    return { ok: true, value: new Parser(lines).parseDocument() };
  } catch (e) {
    if (e instanceof YamlError) return { ok: false, error: e.message };
    throw e;
  }
}

/** The YAML 1.1 meaning of a scalar, as go-yaml v2 resolves it. */
export type Resolved =
  | { type: "null" }
  | { type: "bool"; value: boolean }
  | { type: "int"; value: bigint }
  | { type: "float"; value: number }
  | { type: "string"; value: string };

export function resolveScalar(node: { text: string; quoted: boolean }): Resolved {
  const t = node.text;
  if (node.quoted) return { type: "string", value: t };
  if (["", "~", "null", "Null", "NULL"].includes(t)) return { type: "null" };
  if (["y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"].includes(t)) return { type: "bool", value: true };
  if (["n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"].includes(t)) return { type: "bool", value: false };
  const int = /^([-+]?)(0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]+|0|[1-9][0-9_]*)$/.exec(t);
  if (int) {
    const body = int[2]!.replace(/_/g, "");
    let v: bigint;
    if (body.startsWith("0b") || body.startsWith("0x")) v = BigInt(body);
    else if (body.length > 1 && body.startsWith("0")) v = BigInt("0o" + body.slice(1));
    else v = BigInt(body);
    return { type: "int", value: int[1] === "-" ? -v : v };
  }
  if (/^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$/.test(t)) {
    return { type: "float", value: Number(t.replace(/_/g, "")) };
  }
  if (/^[-+]?\.(inf|Inf|INF)$/.test(t)) return { type: "float", value: t.startsWith("-") ? -Infinity : Infinity };
  if (/^\.(nan|NaN|NAN)$/.test(t)) return { type: "float", value: NaN };
  return { type: "string", value: t };
}
