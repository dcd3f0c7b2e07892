// V8 settings for a member process, applied before it serves anything.
//
// A member's hot paths (HTTP parsing, Raft steps, message encoding, store apply) run a few
// hundred times per second at low load, so with V8's default budget they stay in the
// interpreter and baseline code for seconds after start while requests are already being
// served. A smaller interrupt budget lets them reach optimized code sooner. Measured with
// ../shared/tools/load.mjs against a fresh 3-member cluster (sequential PUTs, first 3 s):
// 400 ops/s at the default budget (67584), 550 at 4096, and 600 against 700 ops/s once warm.
import v8 from "node:v8";

export const INTERRUPT_BUDGET = 4096;

export function tuneV8(): void {
  v8.setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
}
