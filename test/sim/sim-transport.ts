// A member's peer transport over the simulated network: the public surface of
// core/transport/transport.ts's Transport (addPeer, updatePeer, removePeer, send, handle,
// isActive, stop) driven by the same TransportOptions callbacks, without HTTP.
//
// Messages are encoded with the real codec on send and decoded on arrival (no object is shared
// between members, and the codec's checks run). What the HTTP transport reports, this reports
// too, from what the network did:
//   * onUnreachable(peer): a message could not be sent (link cut, peer down), at most once per
//     100 ms per peer;
//   * onSnapshotStatus(peer, ok): a MsgSnap arrived (ok, once the receiver's answer comes back)
//     or was lost (failure, as soon as the loss is known, or after the snapshot timeout);
//   * onRemovedSelf(peer): a peer that considers this member removed refused its message
//     (HTTP 410 in the real transport).
// isActive(peer) is "heard from it in the last 3 s" (the HTTP transport: a stream is up).
import type { PeerTransport } from "../../core/server/member.ts";
import type { TransportOptions } from "../../core/transport/transport.ts";
import { decodeMessage, encodeMessage } from "../../core/transport/codec.ts";
import type { Message } from "../../core/raft/types.ts";
import type { Endpoint, Network } from "./network.ts";
import type { SimRuntime } from "./runtime.ts";

export type { PeerTransport };

export interface SimTransportTuning {
  /** isActive: heard from the peer within this long. */
  activeMs: number;
  /** A snapshot send without an answer fails after this long. */
  snapshotTimeoutMs: number;
  /** onUnreachable at most once per this interval per peer. */
  unreachableIntervalMs: number;
}

export const SIM_TRANSPORT_TUNING: SimTransportTuning = { activeMs: 3000, snapshotTimeoutMs: 5000, unreachableIntervalMs: 100 };

export interface TransportCounters {
  sent: number;
  received: number;
  snapshotsSent: number;
  snapshotsOk: number;
  snapshotsFailed: number;
  unknownPeer: number;
}

export class SimTransport implements PeerTransport, Endpoint {
  readonly rt: SimRuntime;
  readonly id: string;
  private readonly peers = new Map<string, string[]>();
  /** Senders not in the membership yet: answers may go to them (the HTTP transport's remotes). */
  private readonly remotes = new Set<string>();
  private readonly lastHeard = new Map<string, number>();
  private readonly lastUnreachable = new Map<string, number>();
  private readonly pendingSnap = new Map<string, () => void>();
  private stopped = false;
  private removedReported = false;
  readonly counters: TransportCounters = { sent: 0, received: 0, snapshotsSent: 0, snapshotsOk: 0, snapshotsFailed: 0, unknownPeer: 0 };

  constructor(
    private readonly opts: TransportOptions,
    private readonly net: Network,
    name: string,
    private readonly tuning: SimTransportTuning = SIM_TRANSPORT_TUNING,
  ) {
    this.rt = opts.rt as SimRuntime;
    this.id = opts.memberId;
    net.register(this.id, name, this);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  // ---- peers

  addPeer(id: string, peerURLs: string[]): void {
    if (this.stopped || id === this.id) return;
    this.remotes.delete(id);
    if (this.peers.has(id)) return this.updatePeer(id, peerURLs);
    this.peers.set(id, [...peerURLs]);
    this.rt.log.debug("simnet: added peer", { peer: this.net.name(id) });
  }

  updatePeer(id: string, peerURLs: string[]): void {
    if (!this.peers.has(id)) return;
    this.peers.set(id, [...peerURLs]);
  }

  removePeer(id: string): void {
    this.remotes.delete(id);
    if (!this.peers.delete(id)) return;
    this.lastHeard.delete(id);
    this.pendingSnap.get(id)?.();
    this.rt.log.debug("simnet: removed peer", { peer: this.net.name(id) });
  }

  /** Peer IDs known now. */
  peerIds(): string[] {
    return [...this.peers.keys()];
  }

  isActive(id: string): boolean {
    const t = this.lastHeard.get(id);
    return this.peers.has(id) && t !== undefined && this.rt.monotonic() - t <= this.tuning.activeMs;
  }

  // ---- sending

  send(msgs: Message[]): void {
    if (this.stopped) return;
    for (const m of msgs) {
      if (!this.peers.has(m.to) && !this.remotes.has(m.to)) {
        this.counters.unknownPeer++;
        continue;
      }
      const bytes = encodeMessage(m);
      const snap = m.type === "MsgSnap";
      this.counters.sent++;
      if (snap) this.sendSnapshot(m, bytes);
      else {
        this.net.send(this.id, m.to, (ep) => (ep as SimTransport).arrive(this.id, bytes, false), {
          label: label(m),
          // Raft copes with duplicated messages, but a duplicated proposal is appended twice and
          // its write applied twice. The HTTP transport never sends a message twice (no
          // retries over TCP), so the network duplicates everything except proposals.
          noDup: m.type === "MsgProp",
          lost: () => this.unreachable(m.to),
        });
      }
    }
  }

  private sendSnapshot(m: Message, bytes: Uint8Array): void {
    const to = m.to;
    this.counters.snapshotsSent++;
    this.net.stats.snapshots++;
    this.rt.log.info("simnet: sending snapshot", { to: this.net.name(to), index: m.snapshot?.metadata.index, bytes: bytes.length });
    // One outcome per send: the first of answer, known loss, or timeout.
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      cancelTimeout();
      if (this.pendingSnap.get(to) === abort) this.pendingSnap.delete(to);
      if (this.stopped) return;
      if (ok) this.counters.snapshotsOk++;
      else this.counters.snapshotsFailed++;
      if (!ok) this.unreachable(to);
      this.rt.log.info(`simnet: snapshot to ${this.net.name(to)} ${ok ? "delivered" : "failed"}`);
      this.opts.onSnapshotStatus?.(to, ok);
    };
    const abort = (): void => finish(false);
    this.pendingSnap.get(to)?.();
    this.pendingSnap.set(to, abort);
    const cancelTimeout = this.rt.setTimer(this.tuning.snapshotTimeoutMs + bytes.length / 10_000, abort);
    this.net.send(this.id, to, (ep) => (ep as SimTransport).arrive(this.id, bytes, true, () => finish(true)), {
      size: bytes.length,
      label: label(m),
      noDup: true,
      lost: abort,
    });
  }

  private unreachable(id: string): void {
    if (this.stopped || !this.peers.has(id)) return;
    const now = this.rt.monotonic();
    const last = this.lastUnreachable.get(id) ?? -Infinity;
    if (now - last < this.tuning.unreachableIntervalMs) return;
    this.lastUnreachable.set(id, now);
    this.opts.onUnreachable?.(id);
  }

  // ---- receiving (called by the network in this process)

  /** A message from `from`; `answered` is the snapshot sender's completion. */
  arrive(from: string, bytes: Uint8Array, snapshot: boolean, answered?: () => void): void {
    if (this.stopped) return;
    let removed = false;
    try {
      removed = this.opts.isRemoved(from);
    } catch {
      removed = false;
    }
    if (removed) {
      // 410 Gone: the sender learns that this cluster removed it.
      this.net.send(this.id, from, (ep) => (ep as SimTransport).refusedAsRemoved(this.id), { label: "410 removed member", noDup: true, noDrop: true });
      return;
    }
    let m: Message;
    try {
      m = decodeMessage(bytes);
    } catch (e) {
      this.rt.log.error("simnet: undecodable message", { from: this.net.name(from), error: String(e) });
      return;
    }
    if (m.from !== from || m.to !== this.id) {
      this.rt.log.warn("simnet: message with a wrong sender or recipient", { from: m.from, to: m.to });
      return;
    }
    // A sender not in this member's membership yet (as the HTTP transport's X-PeerURLs): a
    // remote that answers can reach.
    if (!this.peers.has(from) && !this.remotes.has(from)) {
      this.remotes.add(from);
      this.rt.log.debug("simnet: added remote peer", { peer: this.net.name(from) });
    }
    this.lastHeard.set(from, this.rt.monotonic());
    this.counters.received++;
    try {
      this.opts.receive(m);
    } catch (e) {
      this.rt.log.error("simnet: the member failed to process a message", { from: this.net.name(from), type: m.type, error: String(e) });
    }
    if (snapshot && answered) {
      // The 204 travels back; its loss is the sender's timeout.
      this.net.send(this.id, from, () => answered(), { label: "204 snapshot", noDup: true, noDrop: true });
    }
  }

  /** A peer answered 410: it considers this member removed. Reported once, as the real transport does. */
  refusedAsRemoved(by: string): void {
    if (this.stopped || this.removedReported) return;
    this.removedReported = true;
    this.opts.onRemovedSelf?.(by);
  }

  // ---- stop

  handle(_req: Request): Promise<Response> | null {
    return null;
  }

  stop(): Promise<void> {
    if (!this.stopped) {
      for (const abort of [...this.pendingSnap.values()]) abort();
      this.stopped = true;
      this.pendingSnap.clear();
      this.net.unregister(this.id, this);
    }
    return Promise.resolve();
  }
}

function label(m: Message): string {
  const extra = m.type === "MsgApp" ? ` i${m.index} n${m.entries.length} c${m.commit}` : m.type.endsWith("Resp") && m.reject ? " reject" : "";
  return `${m.type} t${m.term}${extra}`;
}
