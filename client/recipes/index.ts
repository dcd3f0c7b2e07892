// Coordination recipes on the v2 API (see client/README.md).
export { holdKey, type Hold, type HoldOptions } from "./hold.ts";
export { Mutex, FairMutex, FencedResource, StaleTokenError, acquireKey, type Lease, type LockOptions } from "./lock.ts";
export { Election, type ElectionOptions, type Leadership } from "./election.ts";
export { DirectoryMirror, type MirrorChange } from "./mirror.ts";
export { watchConfig, type Config, type ConfigChange } from "./config.ts";
export { ServiceRegistry, ServiceWatcher, type Registration, type RegistryOptions, type ServiceChange } from "./registry.ts";
export { Queue, Barrier, type QueueItem } from "./queue.ts";
export { startHeartbeat, monitorHeartbeats, type Heartbeat, type HeartbeatEvent } from "./heartbeat.ts";
