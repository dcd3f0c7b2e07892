// The transport suite on Deno's runtime adapter (Deno.serve, Deno's fetch):
//   ./node_modules/.bin/deno run -A test/unit/transport/transport.deno.ts
import { createDenoRuntime } from "../../../runtimes/deno/runtime.ts";
import { runTransportSuite } from "./suite.ts";

runTransportSuite((log) => createDenoRuntime({ log }));
