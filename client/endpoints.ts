// The endpoint list and its order: requests start at the endpoint that answered last
// ("pinned", as etcd's Go client does) and go round the others in their configured order.

/** Normalise and check an endpoint URL: http(s), no path/query; trailing slash dropped. */
export function normaliseEndpoint(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new TypeError(`invalid endpoint ${JSON.stringify(raw)}: not a URL (expected e.g. http://127.0.0.1:2379)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new TypeError(`invalid endpoint ${JSON.stringify(raw)}: the scheme must be http or https`);
  }
  if ((u.pathname !== "/" && u.pathname !== "") || u.search !== "" || u.hash !== "") {
    throw new TypeError(`invalid endpoint ${JSON.stringify(raw)}: no path or query allowed`);
  }
  return `${u.protocol}//${u.host}`;
}

export class EndpointPool {
  private readonly list: string[];
  private pinned = 0;

  constructor(endpoints: string[]) {
    if (!Array.isArray(endpoints) || endpoints.length === 0) throw new TypeError("endpoints: at least one endpoint is required");
    const seen = new Set<string>();
    this.list = [];
    for (const e of endpoints) {
      const n = normaliseEndpoint(e);
      if (!seen.has(n)) {
        seen.add(n);
        this.list.push(n);
      }
    }
  }

  /** Every endpoint, the pinned one first, then the rest in configured (circular) order. */
  order(): string[] {
    const n = this.list.length;
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.list[(this.pinned + i) % n]!);
    return out;
  }

  /** This endpoint answered: start there next time. */
  pin(endpoint: string): void {
    const i = this.list.indexOf(endpoint);
    if (i >= 0) this.pinned = i;
  }

  /** This endpoint failed: if it was pinned, start with the next one next time. */
  demote(endpoint: string): void {
    const i = this.list.indexOf(endpoint);
    if (i >= 0 && i === this.pinned) this.pinned = (i + 1) % this.list.length;
  }
}
