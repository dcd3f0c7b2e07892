// File system errors shaped like Node's: an Error with a string `code`.

export interface FsError extends Error {
  code: string;
  path?: string;
}

export function fsError(code: string, op: string, path: string): FsError {
  const err = new Error(`${code}: ${op} '${path}'`) as FsError;
  err.code = code;
  err.path = path;
  return err;
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return errorCode(err) === "ENOENT";
}
