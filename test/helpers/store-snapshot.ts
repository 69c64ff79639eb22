// What the state store holds, as one comparable string: tests that send requests which must be
// refused compare a snapshot from before with one from after, to prove the refusals changed nothing.
import type { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';

/**
 * Every object hash (each object's JSON, by resource and namespace), the resourceVersion counter,
 * and the cluster-wide indexes a write also touches (uids, unique claims), of the cluster whose
 * keys start with `prefix`.
 */
export async function storeSnapshot(redis: Redis, prefix: string): Promise<string> {
  const keys = new Keys(prefix);
  const objectKeys = (await redis.keys(`${prefix}:obj:*`)).sort();
  const pipeline = redis.pipeline();
  for (const key of objectKeys) pipeline.hgetall(key);
  pipeline.get(keys.resourceVersion);
  pipeline.hgetall(keys.uids);
  pipeline.hgetall(keys.claims);
  const replies = ((await pipeline.exec()) ?? []).map(([err, value]) => {
    if (err) throw err;
    return value;
  });
  const sorted = (hash: unknown) => Object.entries(hash as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const objects = objectKeys.map((key, i) => [key, sorted(replies[i])]);
  const [rv, uids, claims] = replies.slice(objectKeys.length);
  return JSON.stringify({ objects, rv, uids: sorted(uids), claims: sorted(claims) });
}

/** Where two snapshots first differ, to say in a failure what a request changed. */
export function snapshotDifference(before: string, after: string): string {
  if (before === after) return 'no difference';
  let i = 0;
  while (i < before.length && before[i] === after[i]) i++;
  const from = Math.max(0, i - 120);
  return `at character ${i}: before …${before.slice(from, i + 200)}… after …${after.slice(from, i + 200)}…`;
}
