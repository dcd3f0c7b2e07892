// Leader election: three candidates campaign, an observer prints every change of leader. The
// leader resigns; an operator deletes the key under the next one, which learns at once that it
// lost the role; the last one "crashes" (stops refreshing) and its key expires after the TTL.
//
//   bun examples/election.ts
//   deno run -A examples/election.ts
//   npm run build && node dist/examples/election.js
import { Election, type Leadership } from "../client/index.ts";
import { RUN, cleanup, client, log, sleep } from "./_common.ts";

const c = client();
const ac = new AbortController();
const observed = (async () => {
  for await (const leader of new Election(client(), "scheduler", { prefix: `${RUN}/elections`, ttl: 1 }).observe({ signal: ac.signal })) {
    log(`observer: leader is ${leader ?? "(none)"}`);
  }
})();

const leaders: Promise<Leadership>[] = ["alice", "bob", "carol"].map((name) =>
  new Election(client(), "scheduler", { prefix: `${RUN}/elections`, ttl: 1 }).campaign(name).then((l) => {
    log(`${name} is leader (token ${l.token})`);
    void l.lost.then((why) => log(`${name} learns it is no longer leader: ${why}`));
    return l;
  }));

const names = ["alice", "bob", "carol"];
const first = await Promise.race(leaders);
log(`${first.value} resigns`);
await first.resign();
const second = await Promise.race(leaders.filter((_, i) => names[i] !== first.value));
log(`an operator deletes the election key under ${second.value}`);
await c.delete(new Election(c, "scheduler", { prefix: `${RUN}/elections` }).key);
log(`${second.value} was told: ${await second.lost}`);
const third = (await Promise.all(leaders)).find((l) => l !== first && l !== second)!;
log(`${third.value} crashes (stops refreshing); the key expires after its 1 s TTL`);
third.abandon();
while ((await new Election(c, "scheduler", { prefix: `${RUN}/elections` }).leader()) !== null) await sleep(100);
ac.abort();
await observed;
await cleanup(c);
log("done");
