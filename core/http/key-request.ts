// Parsing and validating a /v2/keys request, in etcd's order, with etcd's error codes.
import { EtcdError, ErrorCode } from "../errors.ts";
import { cleanPath } from "../store/path.ts";
import { type Form, first } from "./form.ts";

export interface KeyRequest {
  method: string;
  /** Internal store path ("/1" + key, cleaned). */
  path: string;
  value: string;
  /** undefined when absent (an empty value is refused at parse time). */
  prevValue: string;
  /** 0 = not given; decimal text when beyond 2^53 (see StoreCommand). */
  prevIndex: number | string;
  /** undefined = no existence rule. */
  prevExist: boolean | undefined;
  /** Seconds, or null when absent/empty (no TTL). */
  ttl: number | null;
  refresh: boolean;
  dir: boolean;
  recursive: boolean;
  sorted: boolean;
  wait: boolean;
  waitIndex: number;
  stream: boolean;
  quorum: boolean;
  noValueOnSuccess: boolean;
}

const UINT = /^[0-9]+$/;

/** strconv.ParseUint(v, 10, 64); values past 2^53 keep their magnitude approximately. */
function parseUint(v: string): number | null {
  if (!UINT.test(v)) return null;
  const big = BigInt(v);
  if (big > 0xffffffffffffffffn) return null;
  return Number(big);
}

/** strconv.ParseBool. */
function parseBool(v: string): boolean | null {
  switch (v) {
    case "1": case "t": case "T": case "TRUE": case "true": case "True":
      return true;
    case "0": case "f": case "F": case "FALSE": case "false": case "False":
      return false;
    default:
      return null;
  }
}

function uintParam(form: Form, name: string): number {
  const v = first(form, name);
  if (v === undefined) return 0;
  const n = parseUint(v);
  if (n === null) throw new EtcdError(ErrorCode.IndexNaN, `invalid value for "${name}"`);
  return n;
}

function boolParam(form: Form, name: string, cause = `invalid value for "${name}"`): boolean {
  const v = first(form, name);
  if (v === undefined) return false;
  const b = parseBool(v);
  if (b === null) throw new EtcdError(ErrorCode.InvalidField, cause);
  return b;
}

/** `keyPath` is the decoded URL path after "/v2/keys" ("" or "/..."). */
export function parseKeyRequest(method: string, keyPath: string, form: Form): KeyRequest {
  const prevIndexText = first(form, "prevIndex");
  const prevIndexNumber = uintParam(form, "prevIndex");
  const prevIndex = Number.isSafeInteger(prevIndexNumber) ? prevIndexNumber : String(BigInt(prevIndexText!));
  const waitIndex = uintParam(form, "waitIndex");
  const recursive = boolParam(form, "recursive");
  const sorted = boolParam(form, "sorted");
  const wait = boolParam(form, "wait");
  const dir = boolParam(form, "dir");
  const quorum = boolParam(form, "quorum");
  const stream = boolParam(form, "stream");
  if (wait && method !== "GET") {
    throw new EtcdError(ErrorCode.InvalidField, `"wait" can only be used with GET requests`);
  }
  const prevValue = first(form, "prevValue") ?? "";
  if (form.has("prevValue") && prevValue === "") {
    throw new EtcdError(ErrorCode.PrevValueRequired, `"prevValue" cannot be empty`);
  }
  const noValueOnSuccess = boolParam(form, "noValueOnSuccess");
  let ttl: number | null = null;
  const ttlText = first(form, "ttl") ?? "";
  if (ttlText !== "") {
    ttl = parseUint(ttlText);
    if (ttl === null) throw new EtcdError(ErrorCode.TTLNaN, `invalid value for "ttl"`);
  }
  let prevExist: boolean | undefined;
  if (form.has("prevExist")) prevExist = boolParam(form, "prevExist", "invalid value for prevExist");
  let refresh = false;
  if (form.has("refresh")) {
    refresh = boolParam(form, "refresh", "invalid value for refresh");
    if (refresh) {
      if ((first(form, "value") ?? "") !== "") {
        throw new EtcdError(ErrorCode.RefreshValue, "A value was provided on a refresh");
      }
      if (ttl === null) throw new EtcdError(ErrorCode.RefreshTTLRequired, "No TTL value set");
    }
  }
  return {
    method,
    path: cleanPath("/1/" + keyPath),
    value: first(form, "value") ?? "",
    prevValue,
    prevIndex,
    prevExist,
    ttl,
    refresh,
    dir,
    recursive,
    sorted,
    wait,
    waitIndex,
    stream,
    quorum,
    noValueOnSuccess,
  };
}

/** Latest time a Date can hold; TTLs reaching past it are treated as permanent. */
const MAX_TIME_MS = 8.64e15;

export function expireAt(ttl: number | null, now: number): number | null {
  if (ttl === null) return null;
  const at = now + ttl * 1000;
  return at > MAX_TIME_MS ? null : at;
}
