// The package's "./client" entry: a fetch-only etcd v2 client and coordination recipes. Web
// standards only (fetch, AbortController, URL, TextDecoder): runs on Node ≥ 20, Bun, Deno
// and in browsers. See client/README.md.
export { EtcdClient } from "./client.ts";
export { EtcdConnectionError, EtcdError, EtcdIndeterminateError, EtcdTimeoutError, ErrorCodes } from "./errors.ts";
export type {
  ClientOptions, DeleteOptions, FetchLike, EtcdMember, EtcdNode, EtcdResponse, GetOptions, RefreshOptions, ResyncEvent, SetOptions,
  TtlOptions, WaitOptions, WatchOptions,
} from "./types.ts";
export * from "./recipes/index.ts";
