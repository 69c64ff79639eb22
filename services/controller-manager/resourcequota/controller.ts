// The resource quota controller: keeps each ResourceQuota's status (hard from spec.hard, used
// measured from the objects in its namespace) true. The quota admission charges writes as they
// are admitted; this recount is what gives back the share of deleted objects, terminal pods and
// charges whose object was never written.
//
// It reads straight from Redis rather than an informer's cache: its write replaces usage the
// admission maintains with compare-and-set, so it must count exactly what exists after it saw no
// admission in flight (see shared/quota/admission.ts for the order that makes this safe).
import type { KubeObject } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { Informer } from '../../../shared/store/informer.ts';
import { isConflict, isNotFound } from '../../../shared/errors.ts';
import { deepEqual } from '../../../shared/util.ts';
import { RESOURCES } from '../../../shared/api/resources.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import type { Evaluator } from '../../../shared/quota/evaluators.ts';
import { computeStatus, evaluatorsFor, nextRecountMs } from './plan.ts';

/** How soon to look again at a namespace whose quotas are being charged. */
const IN_FLIGHT_RETRY_MS = 100;

/** Changes of these kinds may move a namespace's usage (the rest is recounted on each resync). */
export const RESOURCE_QUOTA_WATCHES = ['resourcequotas', 'pods', 'services', 'configmaps', 'secrets', 'deployments', 'replicasets', 'daemonsets', 'jobs', 'cronjobs', 'poddisruptionbudgets'];

const SERVED = RESOURCES.filter((r) => r.namespaced).map((r) => ({ plural: r.plural, group: r.group }));

export class ResourceQuotaController {
  constructor(
    private readonly store: Store,
    /** The quotas, to map a change to the quotas of its namespace without reading Redis. */
    private readonly quotas: Informer,
  ) {}

  /** The keys a change concerns: the quota itself, or every quota of the object's namespace. */
  keysFor(resource: string, obj: KubeObject): string[] {
    const ns = obj.metadata.namespace;
    if (!ns) return [];
    if (resource === 'resourcequotas') return [`${ns}/${obj.metadata.name}`];
    return this.quotas.list().filter((q) => q.metadata.namespace === ns).map((q) => `${ns}/${q.metadata.name}`);
  }

  /** Every quota: the resync. */
  allKeys(): string[] {
    return this.quotas.list().map((q) => `${q.metadata.namespace}/${q.metadata.name}`);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const quota = await this.store.get('resourcequotas', namespace, name);
    if (!quota || quota.metadata.deletionTimestamp) return;
    // Read the quota, then see no charge in flight, then count: a charge made after the read
    // fails this write's precondition, one made before it has its object written by now.
    if (await this.store.quotaAdmissionsInFlight(namespace)) return { requeueAfterMs: IN_FLIGHT_RETRY_MS };
    const objects = new Map<Evaluator, KubeObject[]>();
    for (const ev of evaluatorsFor(quota, SERVED)) {
      const r = RESOURCES.find((x) => x.plural === ev.plural && x.group === ev.group)!;
      objects.set(ev, (await this.store.list(r, namespace)).items);
    }
    const nowMs = Date.now();
    const status = computeStatus(quota, objects, nowMs);
    const pods = [...objects].find(([ev]) => ev.plural === 'pods' && !ev.group)?.[1] ?? [];
    const recheck = nextRecountMs(pods, nowMs);
    const result = recheck !== undefined ? { requeueAfterMs: recheck } : undefined;
    if (deepEqual(quota.status ?? {}, status)) return result;
    try {
      // The resourceVersion read is the precondition: an admission's charge since makes this fail.
      await this.store.update('resourcequotas', { ...quota, status }, { subresource: 'status' });
    } catch (err) {
      if (isConflict(err)) return { requeueAfterMs: 10 };
      if (!isNotFound(err)) throw err;
    }
    return result;
  }
}
