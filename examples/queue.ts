// Work queue and barrier: three workers wait at a barrier until the coordinator sets the
// `condition` key; a producer adds 12 jobs (in-order keys) and the workers take them, each job
// exactly once (compare-and-delete on its modifiedIndex).
//
//   bun examples/queue.ts
//   deno run -A examples/queue.ts
//   npm run build && node dist/examples/queue.js
import { Barrier, Queue } from "../client/index.ts";
import { RUN, cleanup, client, log, sleep } from "./_common.ts";

const c = client();
const taken = new Map<string, string>();
const JOBS = 12;

const workers = ["w1", "w2", "w3"].map(async (name) => {
  const wc = client();
  const go = await new Barrier(wc, `${RUN}/start-condition`).wait();
  log(`${name} passes the barrier (condition = ${go})`);
  const q = new Queue(wc, `${RUN}/jobs`);
  const ac = new AbortController();
  while (taken.size < JOBS) {
    const item = await Promise.race([q.dequeue({ signal: ac.signal }), sleep(1500).then(() => null)]);
    if (item === null) break;
    if (taken.has(item.key)) throw new Error(`${item.key} taken twice!`);
    taken.set(item.key, name);
    log(`${name} took ${item.value}`);
    await sleep(20);
  }
  ac.abort();
});

await sleep(300);
log("coordinator: workers are waiting; producer enqueues, then the barrier opens");
const q = new Queue(c, `${RUN}/jobs`);
for (let i = 1; i <= JOBS; i++) await q.enqueue(`job-${i}`);
await new Barrier(c, `${RUN}/start-condition`).release("go");
await Promise.all(workers);
log(`${taken.size} jobs taken, each once:`, [...taken.values()].reduce((m, w) => ({ ...m, [w]: (m[w] ?? 0) + 1 }), {} as Record<string, number>));
await cleanup(c);
log("done");
