// Randomized runs of small clusters with lost, duplicated and reordered messages, partitions,
// crashes and restarts, compactions, leadership transfers, reads and (optionally) membership
// changes. After every step: at most one leader per term, applied entries agree on every node,
// and every read index covers every write committed before the read was issued. At the end the
// healed cluster converges on the same state.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ProposalDroppedError } from "../../../core/raft/raw-node.ts";
import type { Message, NodeId } from "../../../core/raft/types.ts";
import { Network, type NodeOptions, bytes, seeded, text } from "./network.ts";

interface Scenario {
  size: number;
  opts: NodeOptions;
  steps: number;
  /** Add and remove voters along the way (spare nodes join; removed ones are cut off, as etcd's transport does). */
  churn?: boolean;
}

function run(seed: number, sc: Scenario): void {
  const { size, opts, steps } = sc;
  const rnd = seeded(seed * 7919 + size);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const voters0 = Array.from({ length: size }, (_, i) => String(i + 1));
  const ids = sc.churn ? Array.from({ length: size + 4 }, (_, i) => String(i + 1)) : voters0;
  const net = new Network(ids, { maxInflightMsgs: 4, ...opts }, voters0);
  const leaders = new Map<number, NodeId>();
  const applied = new Map<number, number>(); // index -> term, over all nodes
  const readFloor = new Map<string, number>(); // read ctx -> commit index known when issued
  const seenReads = new Map<NodeId, number>(); // node -> read states checked
  const removed = new Set<NodeId>();
  let proposals = 0;
  let reads = 0;
  const where = () => `seed ${seed}, ${JSON.stringify(sc)}`;

  const maxCommitted = () => Math.max(...ids.map((id) => (net.isDown(id) ? net.node(id).storage.initialState().hardState.commit : net.node(id).committed)));

  const check = () => {
    for (const id of ids) {
      const n = net.node(id);
      for (const cc of n.confChanges) {
        if (cc.type === "removeNode" && !removed.has(cc.nodeId)) {
          removed.add(cc.nodeId);
          net.isolate(cc.nodeId);
        }
      }
      if (net.isDown(id)) continue;
      const st = n.rn.status();
      if (st.softState.state === "StateLeader") {
        const prev = leaders.get(st.hardState.term);
        assert.ok(prev === undefined || prev === id, `two leaders in term ${st.hardState.term}: ${prev} and ${id} (${where()})`);
        leaders.set(st.hardState.term, id);
      }
      for (const e of n.appliedLog) {
        const t = applied.get(e.index);
        assert.ok(t === undefined || t === e.term, `index ${e.index} applied with terms ${t} and ${e.term} (${where()})`);
        applied.set(e.index, e.term);
      }
      const from = seenReads.get(id) ?? 0;
      for (const rs of n.readStates.slice(from)) {
        const floor = readFloor.get(text(rs.requestCtx))!;
        assert.ok(rs.index >= floor, `read ${text(rs.requestCtx)} at ${rs.index} misses writes committed up to ${floor} (${where()})`);
      }
      seenReads.set(id, n.readStates.length);
    }
  };

  const live = () => ids.filter((id) => !net.isDown(id) && !removed.has(id));
  const maxDown = sc.churn ? 1 : Math.floor((size - 1) / 2);
  for (let step = 0; step < steps; step++) {
    const r = rnd();
    if (r < 0.35) {
      net.node(pick(live())).rn.tick();
    } else if (r < 0.7) {
      // Deliver a random part of the queue in random order; lose, duplicate or keep the rest.
      const batch = net.queue;
      net.queue = [];
      const keep: Message[] = [];
      for (let i = batch.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [batch[i], batch[j]] = [batch[j]!, batch[i]!];
      }
      for (const m of batch) {
        const x = rnd();
        if (x < 0.65) net.deliverOne(m);
        else if (x < 0.7) {
          net.deliverOne(m);
          keep.push(structuredClone(m));
        } else if (x < 0.8) {
          // lost (the transport reports a lost snapshot)
          if (m.type === "MsgSnap" && !net.isDown(m.from)) net.node(m.from).rn.reportSnapshot(m.to, false);
        } else keep.push(m);
      }
      net.queue.push(...keep);
    } else if (r < 0.82) {
      try {
        net.node(pick(live())).rn.propose(bytes(`p${proposals++}`));
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
      }
    } else if (r < 0.86) {
      const ctx = `r${reads++}`;
      readFloor.set(ctx, maxCommitted());
      net.node(pick(live())).rn.readIndex(bytes(ctx));
    } else if (r < 0.89) {
      if (rnd() < 0.5) net.isolate(pick(live()));
      else {
        net.heal();
        for (const id of removed) net.isolate(id);
      }
    } else if (r < 0.91) {
      const down = ids.filter((id) => net.isDown(id));
      if (down.length > 0 && rnd() < 0.6) net.restart(pick(down));
      else if (down.length < maxDown) net.crash(pick(live()));
    } else if (r < 0.94) {
      const n = net.node(pick(live()));
      if (n.appliedIndex > n.storage.firstIndex() + 2) n.compact(Math.floor(rnd() * 3));
    } else if (r < 0.96) {
      const lead = net.leader();
      if (lead) net.node(lead).rn.transferLeader(pick(ids));
    } else if (r < 0.98 || !sc.churn) {
      const lead = net.leader();
      if (lead) net.node(lead).rn.reportUnreachable(pick(ids));
    } else {
      const lead = net.leader();
      if (lead) {
        const voters = net.node(lead).confState.voters;
        const spare = ids.find((id) => !voters.includes(id) && !removed.has(id));
        try {
          if (spare && (voters.length < 4 || rnd() < 0.5)) net.node(lead).rn.proposeConfChange({ type: "addNode", nodeId: spare });
          else if (voters.length > 3) net.node(lead).rn.proposeConfChange({ type: "removeNode", nodeId: pick(voters) });
        } catch (e) {
          if (!(e instanceof ProposalDroppedError)) throw e;
        }
      }
    }
    net.flush();
    check();
  }

  // Heal everything (removed members stay cut off) and let the cluster converge.
  net.heal();
  for (const id of removed) net.isolate(id);
  for (const id of ids) if (net.isDown(id)) net.restart(id);
  net.drop(() => true); // (reports lost snapshots, as a transport must)
  // Without pre-vote or check-quorum a node with an inflated term may disrupt a few rounds.
  const members = () => (net.leader() ? net.node(net.leader()).confState.voters : voters0);
  const settled = () => {
    const l = net.leader();
    return l !== "" && net.node(l).rn.status().leadTransferee === "" && members().every((id) => net.node(id).lead === l && net.node(id).term === net.node(l).term);
  };
  const hasFinal = () => members().every((id) => net.node(id).data().includes("final"));
  for (let round = 0; round < 20 && !hasFinal(); round++) {
    for (let i = 0; i < 1000 && !settled(); i++) {
      net.tickAll();
      check();
    }
    assert.ok(settled(), `no stable leader after healing (${where()})`);
    try {
      net.propose(net.leader(), "final");
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
    // (a leader that was cut off from its followers until now may still step down: retry)
    for (let i = 0; i < 20 && !hasFinal(); i++) {
      net.tickAll();
      check();
    }
  }
  assert.ok(hasFinal(), `"final" was not applied everywhere (${where()})`);
  const want = net.node(net.leader()).data();
  for (const id of members()) assert.equal(net.node(id).data(), want, `node ${id} diverged (${where()})`);
  const appliedAnywhere = new Set<string>();
  for (const id of ids) for (const d of net.node(id).data()) appliedAnywhere.add(d);
  // (a duplicated MsgProp is appended twice: fine)
  assert.ok([...appliedAnywhere].every((d) => want.includes(d)), `an applied entry was lost (${where()})`);
}

const SEEDS = 6;
const variants: NodeOptions[] = [{}, { preVote: true }, { checkQuorum: true }, { preVote: true, checkQuorum: true }];
for (const size of [3, 5]) {
  for (const opts of variants) {
    test(`chaos: ${size} nodes ${JSON.stringify(opts)}`, () => {
      for (let seed = 1; seed <= SEEDS; seed++) run(seed, { size, opts, steps: 600 });
    });
  }
}

test("chaos: one entry per message, a window of 2", () => {
  for (let seed = 1; seed <= SEEDS; seed++) run(seed, { size: 3, opts: { maxSizePerMsg: 0, maxInflightMsgs: 2, checkQuorum: true }, steps: 600 });
});

for (const opts of [{}, { preVote: true, checkQuorum: true }]) {
  test(`chaos with membership changes ${JSON.stringify(opts)}`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) run(seed, { size: 3, opts, steps: 800, churn: true });
  });
}

test.run();
