// The one etcd error type of the v2 API: errorCode, message, cause, index, and its HTTP status.
// Messages and statuses follow etcd 3.4's v2error table.

const messages: Record<number, string> = {
  100: "Key not found",
  101: "Compare failed",
  102: "Not a file",
  103: "Reached the max number of peers in the cluster",
  104: "Not a directory",
  105: "Key already exists",
  106: "The prefix of given key is a keyword in etcd",
  107: "Root is read only",
  108: "Directory not empty",
  109: "Peer address has existed",
  110: "The request requires user authentication",
  200: "Value is Required in POST form",
  201: "PrevValue is Required in POST form",
  202: "The given TTL in POST form is not a number",
  203: "The given index in POST form is not a number",
  204: "Value or TTL is required in POST form",
  205: "The given timeout in POST form is not a number",
  206: "Name is required in POST form",
  207: "Index or value is required",
  208: "Index and value cannot both be specified",
  209: "Invalid field",
  210: "Invalid POST form",
  211: "Value provided on refresh",
  212: "A TTL must be provided on refresh",
  300: "Raft Internal Error",
  301: "During Leader Election",
  400: "watcher is cleared due to etcd recovery",
  401: "The event in requested index is outdated and cleared",
  402: "Standby Internal Error",
  403: "Invalid active size",
  404: "Standby remove delay",
  500: "Client Internal Error",
};

/** Codes whose HTTP status is not 400. */
const statuses: Record<number, number> = {
  100: 404,
  101: 412,
  102: 403,
  105: 412,
  108: 403,
  110: 401,
  300: 500,
  301: 500,
};

export const ErrorCode = {
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
  RefreshValue: 211,
  RefreshTTLRequired: 212,
  RaftInternal: 300,
  LeaderElect: 301,
  EventIndexCleared: 401,
} as const;

export class EtcdError extends Error {
  readonly errorCode: number;
  override readonly cause: string;
  readonly index: number;

  constructor(errorCode: number, cause = "", index = 0) {
    super(messages[errorCode] ?? "Unknown error");
    this.errorCode = errorCode;
    this.cause = cause;
    this.index = index;
  }

  get status(): number {
    return statuses[this.errorCode] ?? 400;
  }

  /** The JSON body etcd writes: field order errorCode, message, cause (omitted when empty), index. */
  toJSON(): { errorCode: number; message: string; cause?: string; index: number } {
    const body: { errorCode: number; message: string; cause?: string; index: number } = {
      errorCode: this.errorCode,
      message: this.message,
    } as never;
    if (this.cause !== "") body.cause = this.cause;
    body.index = this.index;
    return body;
  }
}

export function isEtcdError(e: unknown): e is EtcdError {
  return e instanceof EtcdError;
}
