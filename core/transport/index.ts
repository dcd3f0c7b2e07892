// The peer transport (see transport.ts for the wire protocol).
export { Transport } from "./transport.ts";
export type { TransportOptions, TransportTuning } from "./types.ts";
export { DEFAULT_TUNING, HEADER, PATH, SERVER_VERSION } from "./types.ts";
export { encodeMessage, decodeMessage, encodeBatch, decodeBatch, MalformedMessageError } from "./codec.ts";
export { encodeFrames, FrameDecoder, FrameTooLargeError, KEEPALIVE_FRAME } from "./framing.ts";
