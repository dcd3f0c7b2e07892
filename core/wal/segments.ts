// Segment files: `%016x-%016x.wal` named by sequence number and the index of the first
// entry expected in it (etcd's naming).
import type { FileSystem } from "../runtime.ts";
import { isNotFound } from "../fs/errors.ts";

export interface SegmentName {
  name: string;
  seq: number;
  index: number;
}

const SEGMENT_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

const hex16 = (n: number): string => n.toString(16).padStart(16, "0");

export function segmentName(seq: number, index: number): string {
  return `${hex16(seq)}-${hex16(index)}.wal`;
}

export function parseSegmentName(name: string): SegmentName | null {
  const m = SEGMENT_RE.exec(name);
  if (!m) return null;
  return { name, seq: parseInt(m[1]!, 16), index: parseInt(m[2]!, 16) };
}

/** Segments in dir ordered by sequence; [] if dir is missing. */
export async function listSegments(fs: FileSystem, dir: string): Promise<SegmentName[]> {
  let names: string[];
  try {
    names = await fs.list(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const out: SegmentName[] = [];
  for (const n of names) {
    const s = parseSegmentName(n);
    if (s) out.push(s);
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/**
 * Position in segs (ordered by seq) of the segment that holds entry `index`: the last one
 * whose first index is <= index, or -1 if none.
 */
export function holderOf(segs: SegmentName[], index: number): number {
  for (let i = segs.length - 1; i >= 0; i--) if (segs[i]!.index <= index) return i;
  return -1;
}
