// The errors the client throws: what a member answered (EtcdError), no member answered
// (EtcdConnectionError), and a write that may or may not have happened (EtcdIndeterminateError).
// Invalid arguments are plain TypeErrors thrown before any request.

/** etcd v2 error codes the client and the recipes look at (etcd's v2error). */
export const ErrorCodes = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NotDir: 104,
  NodeExist: 105,
  RootReadOnly: 107,
  DirNotEmpty: 108,
  Unauthorized: 110,
  PrevValueRequired: 201,
  TTLNaN: 202,
  IndexNaN: 203,
  InvalidField: 209,
  InvalidForm: 210,
  RaftInternal: 300,
  LeaderElect: 301,
  EventIndexCleared: 401,
  /** Not a keys-API error: an answer of /v2/members, /v2/stats, ... ({"message"} only) or a body that is not etcd's. */
  NotKeysError: 0,
} as const;

/**
 * An error answer of a member. For the keys API these are etcd's fields (`message` is etcd's
 * "message"). Other endpoints answer `{"message": ...}` only: errorCode is then 0.
 */
export class EtcdError extends Error {
  readonly errorCode: number;
  /** etcd's "cause" (e.g. the missing key); "" when absent. */
  override readonly cause: string;
  /** The store index the error was raised at (0 for parse errors and code 300). */
  readonly index: number;
  /** HTTP status of the answer. */
  readonly status: number;
  /** The member that answered. */
  readonly endpoint: string;

  constructor(o: { errorCode: number; message: string; cause?: string; index?: number; status: number; endpoint?: string }) {
    super(o.message);
    this.name = "EtcdError";
    this.errorCode = o.errorCode;
    this.cause = o.cause ?? "";
    this.index = o.index ?? 0;
    this.status = o.status;
    this.endpoint = o.endpoint ?? "";
  }

  /** Whether err is an EtcdError with this code. */
  static is(err: unknown, code: number): err is EtcdError {
    return err instanceof EtcdError && err.errorCode === code;
  }
}

/** Every endpoint failed: network error, timeout, or a 5xx answer (one entry per attempt). */
export class EtcdConnectionError extends Error {
  /** The endpoints tried, in order. */
  readonly endpoints: string[];
  /** What went wrong with each, same order. */
  readonly errors: Error[];

  constructor(message: string, endpoints: string[], errors: Error[]) {
    super(message);
    this.name = "EtcdConnectionError";
    this.endpoints = endpoints;
    this.errors = errors;
  }
}

/**
 * A write that is not safe to repeat (see ClientOptions.retryUnsafe) failed in a way that
 * leaves its outcome unknown: it timed out, the connection broke after it was sent, or a
 * member answered 5xx (e.g. error 300 "request timed out", which can still commit). It was
 * not retried. Read the key to find out. A subclass of EtcdConnectionError.
 */
export class EtcdIndeterminateError extends EtcdConnectionError {
  constructor(message: string, endpoints: string[], errors: Error[]) {
    super(message, endpoints, errors);
    this.name = "EtcdIndeterminateError";
  }
}

/** A request that took longer than the client's timeoutMs. */
export class EtcdTimeoutError extends Error {
  readonly endpoint: string;
  constructor(endpoint: string, ms: number) {
    super(`${endpoint}: no answer within ${ms} ms`);
    this.name = "EtcdTimeoutError";
    this.endpoint = endpoint;
  }
}
