// DNS SRV bootstrap (core/server/srv.ts) with a fake resolveSrv that answers injected records.
//
//   npx tsc -p tsconfig.json && node dist/test/unit/server/srv.test.js
//   ./node_modules/.bin/bun test/unit/server/srv.test.ts
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { SrvRecord } from "../../../core/runtime.ts";
import { srvClientURLs, srvInitialCluster, srvServerCluster, srvService } from "../../../core/server/srv.ts";
import type { SrvRuntime } from "../../../core/server/srv.ts";

/** A resolver that knows some names; others fail as Node's does. */
function fakeDns(records: Record<string, Array<[string, number]>>): SrvRuntime & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolveSrv(name: string): Promise<SrvRecord[]> {
      asked.push(name);
      const r = records[name];
      if (r === undefined) return Promise.reject(new Error(`querySrv ENOTFOUND ${name}`));
      return Promise.resolve(r.map(([target, port]) => ({ name: target, port, priority: 0, weight: 0 })));
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

const base = { domain: "example.com", srvName: "", name: "infra1" };

test("service names: -ssl for https, then the --discovery-srv-name suffix", () => {
  assert.is(srvService("etcd-server", "", "https"), "etcd-server-ssl");
  assert.is(srvService("etcd-server", "", "http"), "etcd-server");
  assert.is(srvService("etcd-server", "foo", "https"), "etcd-server-ssl-foo");
  assert.is(srvService("etcd-client", "foo", "http"), "etcd-client-foo");
});

test("http records alone bootstrap a cluster (3.5 behaviour; 3.4 fails on the missing ssl records)", async () => {
  const dns = fakeDns({
    "_etcd-server._tcp.example.com": [["infra0.example.com.", 2380], ["infra1.example.com.", 2380], ["infra2.example.com.", 2380]],
  });
  const cluster = await srvInitialCluster(dns, { ...base, advertisePeerURLs: ["http://infra1.example.com:2380"] });
  assert.is(cluster, "0=http://infra0.example.com:2380,infra1=http://infra1.example.com:2380,1=http://infra2.example.com:2380");
  assert.equal(dns.asked, ["_etcd-server-ssl._tcp.example.com", "_etcd-server._tcp.example.com"]);
});

test("https records come first and are combined with http ones; placeholder names never repeat", async () => {
  const dns = fakeDns({
    "_etcd-server-ssl._tcp.example.com": [["a.example.com", 2380], ["b.example.com", 2380]],
    "_etcd-server._tcp.example.com": [["c.example.com", 2380]],
  });
  const cluster = await srvInitialCluster(dns, { ...base, advertisePeerURLs: ["https://b.example.com:2380"] });
  assert.is(cluster, "0=https://a.example.com:2380,infra1=https://b.example.com:2380,1=http://c.example.com:2380");
});

test("--discovery-srv-name changes the looked-up names", async () => {
  const dns = fakeDns({ "_etcd-server-foo._tcp.example.com": [["infra1.example.com", 2380]] });
  const cluster = await srvInitialCluster(dns, { ...base, srvName: "foo", advertisePeerURLs: ["http://infra1.example.com:2380"] });
  assert.is(cluster, "infra1=http://infra1.example.com:2380");
  assert.equal(dns.asked, ["_etcd-server-ssl-foo._tcp.example.com", "_etcd-server-foo._tcp.example.com"]);
});

test("host matching: case and trailing dot ignored, default ports, localhost = 127.0.0.1 = ::1", async () => {
  const dns = fakeDns({ "_etcd-server._tcp.example.com": [["INFRA1.Example.COM.", 80], ["localhost.", 2380], ["other", 2381]] });
  assert.is(
    await srvInitialCluster(dns, { ...base, advertisePeerURLs: ["http://infra1.example.com"] }),
    "infra1=http://INFRA1.Example.COM:80,0=http://localhost:2380,1=http://other:2381",
  );
  for (const adv of ["http://127.0.0.1:2380", "http://[::1]:2380", "http://localhost:2380"]) {
    assert.is(
      await srvInitialCluster(dns, { ...base, advertisePeerURLs: [adv] }),
      "0=http://INFRA1.Example.COM:80,infra1=http://localhost:2380,1=http://other:2381",
      adv,
    );
  }
});

test("a member missing from the records fails with etcd's message", async () => {
  const dns = fakeDns({ "_etcd-server._tcp.example.com": [["infra0.example.com", 2380]] });
  const e = await rejection(srvInitialCluster(dns, { ...base, advertisePeerURLs: ["http://infra1.example.com:2380"] }));
  assert.is(e.message, 'cannot find local etcd member "infra1" in SRV records');
  // A different port is a different member.
  const e2 = await rejection(srvInitialCluster(dns, { ...base, name: "infra0", advertisePeerURLs: ["http://infra0.example.com:2381"] }));
  assert.is(e2.message, 'cannot find local etcd member "infra0" in SRV records');
  // No records at all (and no lookup error) also leaves the member missing...
  const none = fakeDns({ "_etcd-server-ssl._tcp.example.com": [], "_etcd-server._tcp.example.com": [] });
  const e3 = await rejection(srvInitialCluster(none, { ...base, advertisePeerURLs: ["http://a:1"] }));
  assert.is(e3.message, 'cannot find local etcd member "infra1" in SRV records');
  // ...but with no records and a failed lookup, the lookup's error is reported (as 3.5 does).
  const e4 = await rejection(srvInitialCluster(fakeDns({ "_etcd-server._tcp.example.com": [] }), { ...base, advertisePeerURLs: ["http://a:1"] }));
  assert.is(e4.message, "error querying DNS SRV records for _etcd-server-ssl querySrv ENOTFOUND _etcd-server-ssl._tcp.example.com");
});

test("both lookups failing gives both errors", async () => {
  const e = await rejection(srvInitialCluster(fakeDns({}), { ...base, advertisePeerURLs: ["http://infra1.example.com:2380"] }));
  assert.is(
    e.message,
    "error querying DNS SRV records for _etcd-server-ssl querySrv ENOTFOUND _etcd-server-ssl._tcp.example.com; " +
      "error querying DNS SRV records for _etcd-server querySrv ENOTFOUND _etcd-server._tcp.example.com",
  );
});

test("a scheme mismatch for this member is an error when nothing else was found", async () => {
  const dns = fakeDns({ "_etcd-server._tcp.example.com": [["infra1.example.com", 2380]] });
  const e = await rejection(srvInitialCluster(dns, { ...base, advertisePeerURLs: ["https://infra1.example.com:2380"] }));
  assert.ok(
    e.message.endsWith(
      "error querying DNS SRV records for _etcd-server bootstrap at http://infra1.example.com:2380 from DNS for etcd-server has scheme mismatch with expected peer https://infra1.example.com:2380",
    ),
    e.message,
  );
  // With other records the mismatched one is skipped, and the member is missing.
  const dns2 = fakeDns({ "_etcd-server._tcp.example.com": [["infra0.example.com", 2380], ["infra1.example.com", 2380]] });
  const e2 = await rejection(srvInitialCluster(dns2, { ...base, advertisePeerURLs: ["https://infra1.example.com:2380"] }));
  assert.is(e2.message, 'cannot find local etcd member "infra1" in SRV records');
});

test("srvServerCluster does not require this member (a proxy)", async () => {
  const dns = fakeDns({ "_etcd-server._tcp.example.com": [["a", 2380], ["b", 2380]] });
  assert.equal(await srvServerCluster(dns, { ...base, advertisePeerURLs: ["http://localhost:2380"] }), [
    { name: "0", url: "http://a:2380" },
    { name: "1", url: "http://b:2380" },
  ]);
});

test("client URLs: https and http records; an error only when both lookups fail", async () => {
  const both = fakeDns({
    "_etcd-client-ssl._tcp.example.com": [["a.example.com.", 2379]],
    "_etcd-client._tcp.example.com": [["b.example.com.", 2379], ["c.example.com.", 2379]],
  });
  assert.equal(await srvClientURLs(both, "example.com", ""), ["https://a.example.com:2379", "http://b.example.com:2379", "http://c.example.com:2379"]);
  const httpOnly = fakeDns({ "_etcd-client-foo._tcp.example.com": [["b", 2379]] });
  assert.equal(await srvClientURLs(httpOnly, "example.com", "foo"), ["http://b:2379"]);
  assert.equal(httpOnly.asked, ["_etcd-client-ssl-foo._tcp.example.com", "_etcd-client-foo._tcp.example.com"]);
  const e = await rejection(srvClientURLs(fakeDns({}), "example.com", ""));
  assert.is(
    e.message,
    "dns lookup errors: querySrv ENOTFOUND _etcd-client-ssl._tcp.example.com and querySrv ENOTFOUND _etcd-client._tcp.example.com",
  );
});

test.run();
