// The first entries of a brand-new cluster, as etcd's StartNode creates them: one conf entry per
// initial member at term 1, indexes 1..n.
//
// The server appends them to storage with hardState {term: 1, vote: "", commit: n}. Then either
//  - it starts the RawNode with applied = 0: they come back in the first Ready's committedEntries
//    and it applies them as usual (its membership store + RawNode.applyConfChange), or
//  - it applies them itself and starts the RawNode with applied = n: RawNode rebuilds the voter
//    set from conf entries up to `applied` (see RawNode's constructor).
import { encodeConfChange } from "./conf-change.ts";
import type { Entry, NodeId } from "./types.ts";

export function bootstrapEntries(peers: NodeId[], contexts?: Map<NodeId, Uint8Array>): Entry[] {
  if (peers.length === 0) throw new Error("raft: must provide at least one peer to bootstrap");
  return peers.map((id, i) => {
    const context = contexts?.get(id);
    return {
      index: i + 1,
      term: 1,
      type: "conf",
      data: encodeConfChange(context ? { type: "addNode", nodeId: id, context } : { type: "addNode", nodeId: id }),
    };
  });
}
