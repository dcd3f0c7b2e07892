// ConfChange <-> entry data (msgpack), as carried by entries of type "conf".
import { decode, encode } from "@msgpack/msgpack";
import type { ConfChange } from "./types.ts";

const TYPES: ReadonlySet<string> = new Set(["addNode", "removeNode", "updateNode"]);

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const wire: { t: string; n: string; c?: Uint8Array } = { t: cc.type, n: cc.nodeId };
  if (cc.context !== undefined) wire.c = cc.context;
  return encode(wire);
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const v = decode(data) as { t?: unknown; n?: unknown; c?: unknown } | null;
  if (!v || typeof v !== "object" || typeof v.t !== "string" || !TYPES.has(v.t) || typeof v.n !== "string") {
    throw new Error("raft: malformed conf change entry");
  }
  const cc: ConfChange = { type: v.t as ConfChange["type"], nodeId: v.n };
  if (v.c instanceof Uint8Array) cc.context = v.c;
  return cc;
}
