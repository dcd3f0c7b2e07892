// Member and cluster identity, derived as etcd derives them: the first 8 bytes (big-endian)
// of a SHA-1 digest. IDs are uint64, kept as lower-case hex strings without padding (the
// form v2 shows), since JavaScript numbers cannot hold them.

const encoder = new TextEncoder();

async function sha1Prefix(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", data as BufferSource));
  let hex = "";
  for (let i = 0; i < 8; i++) hex += digest[i]!.toString(16).padStart(2, "0");
  return BigInt("0x" + hex).toString(16);
}

/**
 * ID of a member: SHA-1 over its sorted peer URLs concatenated, then the cluster token
 * (--initial-cluster-token, or the discovery URL), then the unix seconds when given
 * (runtime additions, so that reused peer URLs still get fresh IDs).
 */
export function memberId(peerUrls: string[], token: string, unixSeconds?: number): Promise<string> {
  let text = [...peerUrls].sort().join("") + token;
  if (unixSeconds !== undefined) text += String(unixSeconds);
  return sha1Prefix(encoder.encode(text));
}

/** ID of a cluster: SHA-1 over its sorted member IDs, each as 8 big-endian bytes. */
export function clusterId(memberIds: string[]): Promise<string> {
  const sorted = memberIds.map((id) => BigInt("0x" + id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = new Uint8Array(sorted.length * 8);
  const view = new DataView(bytes.buffer);
  sorted.forEach((id, i) => view.setBigUint64(i * 8, id));
  return sha1Prefix(bytes);
}

/** Numeric order of hex IDs (how etcd sorts member lists). */
export function compareIds(a: string, b: string): number {
  const x = BigInt("0x" + a);
  const y = BigInt("0x" + b);
  return x < y ? -1 : x > y ? 1 : 0;
}
