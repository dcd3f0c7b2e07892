// What the parts of one Transport (peers, their streams, the handler) share.
import type { Message } from "../raft/types.ts";
import type { Runtime } from "../runtime.ts";
import type { TransportTuning } from "./types.ts";
import type { LogLimiter } from "./util.ts";

export interface Shared {
  readonly rt: Runtime;
  readonly memberId: string;
  readonly clusterId: string;
  readonly tuning: TransportTuning;
  /** Rate-limited warnings. */
  readonly logs: LogLimiter;
  isStopped(): boolean;
  /** Identity headers of a request to peer `to`. */
  requestHeaders(to: string): Record<string, string>;
  isRemoved(id: string): boolean;
  /** Hand a checked message to the member. */
  deliver(m: Message): void;
  /** Callbacks to the member, run asynchronously (never inside send()), errors logged. */
  sent(id: string, ok: boolean, count?: number): void;
  unreachable(id: string): void;
  snapshotStatus(id: string, ok: boolean): void;
  removedSelf(byPeer: string): void;
}
