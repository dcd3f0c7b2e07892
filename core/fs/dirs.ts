// Creating a directory so that it survives power loss.
import type { FileSystem } from "../runtime.ts";
import { dirname } from "./path.ts";

/**
 * mkdir -p, then make every directory this call created durable: sync each created
 * directory and the parent of the topmost one, whose entry list changed. Directories
 * that already existed are left alone (their parents may not even be readable).
 */
export async function mkdirDurable(fs: FileSystem, path: string): Promise<void> {
  const missing: string[] = [];
  let p = path;
  while (!(await fs.exists(p))) {
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  if (missing.length === 0) return;
  await fs.mkdir(path);
  // Innermost first; the last one synced is the existing parent of the topmost new dir.
  for (const dir of missing) await fs.syncDir(dir);
  const top = missing[missing.length - 1]!;
  const parent = dirname(top);
  if (parent !== top) await fs.syncDir(parent);
}
