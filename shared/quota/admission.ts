// The ResourceQuota admission in the store's write path, for every writer alike (API, controllers).
// As Kubernetes' quota admission does, it charges a write to each quota it concerns by writing the
// quota's status.used with a resourceVersion precondition *before* the object is written: of many
// concurrent creates, each charge is a compare-and-set on the quota, so no two can both take the
// last unit. A charge whose object is then not written is given back by the resource quota
// controller, which recomputes usage from what exists.
//
// The controller must not recompute while charges are on their way to becoming objects (it would
// count the objects, miss the charged-but-unwritten ones, and hand their share out again). So each
// charging write is marked in flight for its namespace from before its first charge until after
// its object is written; the controller leaves a namespace with writes in flight alone and comes
// back. A marker outlives a crashed writer by at most IN_FLIGHT_TTL_MS.
import type { KubeObject } from '../types.ts';
import { ForbiddenError, ServiceUnavailableError, isConflict } from '../errors.ts';
import { evaluatorFor } from './evaluators.ts';
import { checkRequest } from './quota-check.ts';

/** What the quota admission needs of the store. */
export interface QuotaBackend {
  listQuotas(namespace: string): Promise<KubeObject[]>;
  /** Writes a quota's status.used, if its resourceVersion is still the one read (else a Conflict). */
  writeQuotaUsed(quota: KubeObject, used: Record<string, string>): Promise<void>;
  beginQuotaAdmission(namespace: string): Promise<string>;
  endQuotaAdmission(namespace: string, token: string): Promise<void>;
}

export interface QuotaTarget {
  plural: string;
  group: string;
  namespaced: boolean;
}

/** How long an in-flight marker lasts when its writer never clears it. */
export const IN_FLIGHT_TTL_MS = 30_000;

/** Compare-and-set rounds before giving up (each lost round means another write was charged). */
const MAX_ROUNDS = 200;

const noop = async () => {};

/** Kubernetes' admission.NewForbidden: `pods "x" is forbidden: <why>`. */
export function quotaForbidden(target: QuotaTarget, name: string, why: string): ForbiddenError {
  const resource = target.group ? `${target.plural}.${target.group}` : target.plural;
  return new ForbiddenError(`${resource} "${name}" is forbidden: ${why}`, { name, group: target.group, kind: target.plural });
}

/**
 * Admits one write against the quotas of its namespace: refuses it (403) when it lacks what a
 * quota requires or would exceed one, else charges it. Returns the release to call once the object
 * is written (or failed to be); a dry run is checked and never charged.
 */
export async function admitQuota(
  backend: QuotaBackend,
  target: QuotaTarget,
  op: 'create' | 'update',
  obj: KubeObject,
  old: KubeObject | undefined,
  opts: { dryRun?: boolean } = {},
): Promise<() => Promise<void>> {
  const namespace = obj.metadata.namespace;
  if (!target.namespaced || !namespace) return noop;
  const ev = evaluatorFor(target.plural, target.group);
  if (!ev || !ev.handles(op, obj, old)) return noop;
  let token: string | undefined;
  const release = async () => {
    if (token) await backend.endQuotaAdmission(namespace, token);
  };
  const charged = new Set<string>();
  try {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const quotas = (await backend.listQuotas(namespace)).filter((q) => !charged.has(q.metadata.name!));
      if (!quotas.length) return release;
      const decision = checkRequest(quotas, ev, op, obj, old, Date.now());
      if ('refused' in decision) throw quotaForbidden(target, obj.metadata.name ?? '', decision.refused);
      if (!decision.charges.length || opts.dryRun) return release;
      token ??= await backend.beginQuotaAdmission(namespace);
      try {
        for (const c of decision.charges) {
          await backend.writeQuotaUsed(c.quota, c.used);
          charged.add(c.quota.metadata.name!);
        }
        return release;
      } catch (err) {
        if (!isConflict(err)) throw err;
        // Another write was charged first: read its usage and decide again, after a breath.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(20, round + 1)));
      }
    }
    throw new ServiceUnavailableError('resource quota evaluation timed out: too many concurrent writes to the namespace\'s quotas', { retryAfterSeconds: 1 });
  } catch (err) {
    await release();
    throw err;
  }
}
