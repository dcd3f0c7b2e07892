// The package's library entry: embed a member, or use its pieces.
export { startMember, type RunningMember } from "./server/start.ts";
export { Member } from "./server/member.ts";
export { parseConfig, type Config } from "./config.ts";
export { createClientApp } from "./http/app.ts";
export { createProxyHandler } from "./proxy/handler.ts";
export { startProxy, type RunningProxy } from "./proxy/start.ts";
export { Store } from "./store/store.ts";
export { EtcdError, ErrorCode } from "./errors.ts";
export type * from "./runtime.ts";
export type * from "./store/types.ts";
