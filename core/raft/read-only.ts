// Pending linearizable reads on the leader (ReadIndex, thesis §6.4). Each request remembers the
// commit index when it arrived; it is released once a heartbeat round sent after it is
// acknowledged by a quorum. Requests queue in arrival order, so an acknowledged round releases
// every request before it too: that is how many reads share one round.
import type { Message, NodeId } from "./types.ts";
import { bytesKey } from "./util.ts";

export interface ReadIndexStatus {
  /** The MsgReadIndex (from = "" or the leader itself for local requests). */
  req: Message;
  index: number;
  acks: Set<NodeId>;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Queues a request (keyed by its context; a duplicate context is ignored). */
  addRequest(index: number, m: Message, ctx: Uint8Array): void {
    const key = bytesKey(ctx);
    if (this.pending.has(key)) return;
    this.pending.set(key, { req: m, index, acks: new Set() });
    this.queue.push(key);
  }

  /** Records an acknowledgement of the round carrying `ctx`; returns who acked so far. */
  recvAck(id: NodeId, ctx: Uint8Array): Set<NodeId> | undefined {
    const rs = this.pending.get(bytesKey(ctx));
    if (!rs) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Releases the request with `ctx` and every request queued before it. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = bytesKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1).map((k) => this.pending.get(k)!);
    for (const k of this.queue.slice(0, at + 1)) this.pending.delete(k);
    this.queue = this.queue.slice(at + 1);
    return released;
  }

  /** Context of the newest pending request (carried by heartbeats), if any. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    const key = this.queue[this.queue.length - 1]!;
    return contextOf(this.pending.get(key)!.req);
  }

  get size(): number {
    return this.queue.length;
  }
}

export function contextOf(m: Message): Uint8Array {
  return m.context ?? new Uint8Array(0);
}
