// The transport suite on Bun's runtime adapter with Bun.serve (instead of Bun's node:http):
//   ./node_modules/.bin/bun test/unit/transport/transport-bunserve.bun.ts
import { createBunRuntime } from "../../../runtimes/bun/runtime.ts";
import { runTransportSuite } from "./suite.ts";

runTransportSuite((log) => createBunRuntime({ log, server: "bun-serve" }));
