// The process environment a deterministic simulation needs. Everything the members do must
// finish within the promise microtasks that the scheduler drains after each event; a few
// platform APIs resolve from outside the microtask queue and would make runs differ:
//
//   * crypto.subtle.digest (member and cluster IDs, ids.ts) runs on the libuv thread pool in
//     Node: replaced by a synchronous SHA-1/SHA-256 that returns a resolved promise;
//   * Math.random (anything in a dependency that might use it): replaced by a seeded generator
//     for the duration of a run, and its calls counted (the core never uses it in simulation).
//
// install() returns a function that restores the originals. Runs are strictly sequential
// within one process (or worker thread), so the globals are swapped per run.
import { createHash } from "node:crypto";
import { seededRandom } from "../support/random.ts";

type Digest = (algorithm: AlgorithmIdentifier, data: BufferSource) => Promise<ArrayBuffer>;

let digestInstalled = false;

function bytesOf(data: BufferSource): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Replaces crypto.subtle.digest (once per process) by a synchronous hash. */
function installDigest(): void {
  if (digestInstalled) return;
  const subtle = globalThis.crypto.subtle;
  const original = subtle.digest.bind(subtle) as Digest;
  const sync: Digest = (algorithm, data) => {
    const name = (typeof algorithm === "string" ? algorithm : algorithm.name).toUpperCase().replace("-", "");
    const node = name === "SHA1" ? "sha1" : name === "SHA256" ? "sha256" : name === "SHA512" ? "sha512" : null;
    if (node === null) return original(algorithm, data);
    const out = createHash(node).update(bytesOf(data)).digest();
    return Promise.resolve(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer);
  };
  Object.defineProperty(subtle, "digest", { value: sync, configurable: true, writable: true });
  digestInstalled = true;
}

export interface EnvHandle {
  /** Calls of Math.random during the run (not an error, but worth knowing). */
  mathRandomCalls(): number;
  restore(): void;
}

/** Makes the process deterministic for one run seeded by `seed`. */
export function installSimEnv(seed: number): EnvHandle {
  installDigest();
  const originalRandom = Math.random;
  const rand = seededRandom((seed ^ 0x5eed1234) >>> 0);
  let calls = 0;
  Math.random = () => {
    calls++;
    return rand();
  };
  return {
    mathRandomCalls: () => calls,
    restore: () => {
      Math.random = originalRandom;
    },
  };
}
