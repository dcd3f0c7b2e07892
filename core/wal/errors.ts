// Errors the WAL and the snapshotter throw.

/** Misuse or an unusable state (missing snapshot marker, earlier write failure, closed). */
export class WalError extends Error {
  override name = "WalError";
}

/** Bytes on disk that cannot be trusted, other than a torn tail that was truncated. */
export class WalCorruptError extends WalError {
  override name = "WalCorruptError";
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`wal: corrupt record in ${file} at offset ${offset}: ${reason}`);
  }
}
