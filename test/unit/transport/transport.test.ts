// The transport suite on Node's runtime adapter (also runs as is on Bun: its node:http).
//
//   npx tsc -p tsconfig.json && node dist/test/unit/transport/transport.test.js
//   ./node_modules/.bin/bun test/unit/transport/transport.test.ts
import { createNodeRuntime } from "../../../runtimes/node/runtime.ts";
import { runTransportSuite } from "./suite.ts";

runTransportSuite((log) => createNodeRuntime({ log }));
