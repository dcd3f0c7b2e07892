// Form parsing with Go's net/http semantics (Request.ParseForm), which is what etcd's v2
// handlers see: query values for every method, urlencoded body values for POST/PUT/PATCH
// placed before them, and Go's exact error texts (they become the `cause` of error 210).

import { fromBytes } from "../store/byte-string.ts";
import { EscapeError, unescape } from "./url-escape.ts";

export class FormError extends Error {}

/** Body limit of Go's ParseForm: 10 MiB of encoded form. */
export const MAX_FORM_BYTES = 10 << 20;

export type Form = Map<string, string[]>;

/** Go's url.QueryUnescape: '+' is a space, %XX a byte; a bad escape is an error. */
export function queryUnescape(s: string): string {
  try {
    return unescape(s, true);
  } catch (e) {
    if (e instanceof EscapeError) throw new FormError(e.message);
    throw e;
  }
}

/**
 * Go's url.ParseQuery: pairs split on '&'; a pair holding ';' is rejected; parsing goes
 * on after an error and the first error is reported (after filling what could be parsed).
 */
export function parseQuery(query: string, into: Form = new Map()): Form {
  let firstError: FormError | null = null;
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    if (pair.includes(";")) {
      firstError ??= new FormError("invalid semicolon separator in query");
      continue;
    }
    const eq = pair.indexOf("=");
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? "" : pair.slice(eq + 1);
    let key: string;
    let value: string;
    try {
      key = queryUnescape(rawKey);
      value = queryUnescape(rawValue);
    } catch (e) {
      firstError ??= e as FormError;
      continue;
    }
    const list = into.get(key);
    if (list) list.push(value);
    else into.set(key, [value]);
  }
  if (firstError) throw firstError;
  return into;
}

/** Go's mime.ParseMediaType, reduced to what decides ParseForm: the media type or an error. */
export function mediaType(contentType: string): string {
  const semi = contentType.indexOf(";");
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+\/[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(type)) {
    throw new FormError(type.includes("/") || type === "" ? "mime: no media type" : "mime: expected slash after first token");
  }
  if (semi >= 0) {
    for (const param of contentType.slice(semi + 1).split(";")) {
      const p = param.trim();
      if (p === "") continue;
      const eq = p.indexOf("=");
      if (eq <= 0) throw new FormError("mime: invalid media parameter");
    }
  }
  return type;
}

/**
 * Reads the form of a request as Go's ParseForm does: body values (POST, PUT, PATCH with
 * application/x-www-form-urlencoded) first, then query values.
 */
export async function readForm(req: Request, rawQuery: string): Promise<Form> {
  const form: Form = new Map();
  let error: FormError | null = null;
  const method = req.method;
  if (method === "POST" || method === "PUT" || method === "PATCH") {
    const ct = req.headers.get("content-type") ?? "application/octet-stream";
    try {
      if (mediaType(ct) === "application/x-www-form-urlencoded") {
        const declared = Number(req.headers.get("content-length") ?? "-1");
        if (declared > MAX_FORM_BYTES) throw new FormError("http: POST too large");
        const body = new Uint8Array(await req.arrayBuffer());
        if (body.length > MAX_FORM_BYTES) throw new FormError("http: POST too large");
        // Raw bytes that are not UTF-8 are kept (byte-string.ts), as Go keeps them.
        parseQuery(fromBytes(body), form);
      }
    } catch (e) {
      if (!(e instanceof FormError)) throw e;
      error = e;
    }
  }
  try {
    parseQuery(rawQuery, form);
  } catch (e) {
    if (!(e instanceof FormError)) throw e;
    error ??= e;
  }
  if (error) throw error;
  return form;
}

export function first(form: Form, name: string): string | undefined {
  return form.get(name)?.[0];
}
