// Pure decisions of the StatefulSet controller, as Kubernetes' pkg/controller/statefulset
// (stateful_set_control.go): which ordinals to create, which pods to delete (failed ones, those
// beyond the replica count from the highest ordinal down, outdated ones in a rolling update from
// the highest ordinal down to the partition), and the status. Under OrderedReady each step waits
// for every lower ordinal to be running and ready; under Parallel nothing waits.
import type { KubeObject, OwnerReference, Pod, PodTemplateSpec, StatefulSet } from '../../../shared/types.ts';
import { isPodAvailable, isPodReady } from '../../../shared/api/podutil.ts';
import { scaled } from '../daemonset/plan.ts';
import { REVISION_HASH } from '../history.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export type StatefulSetStatus = NonNullable<StatefulSet['status']>;

export interface StatefulSetPlan {
  /** Ordinals to create a pod for, each with the revision its template comes from. */
  create: { ordinal: number; revision: 'current' | 'update' }[];
  delete: Pod[];
  status: StatefulSetStatus;
  /** When a pod will have been ready for minReadySeconds, if the plan waits for that. */
  recheckAfterMs?: number;
}

/** A pod's ordinal, when its name is the set's name, a dash and a number. */
export function ordinalOf(set: StatefulSet, pod: Pod): number | undefined {
  const prefix = `${set.metadata.name}-`;
  const name = pod.metadata.name ?? '';
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

/** The pod of one ordinal: its stable name, hostname under the governing Service, and identity labels. */
export function statefulPod(set: StatefulSet, template: PodTemplateSpec, revisionName: string, ordinal: number): Pod {
  const t = structuredClone(template);
  const name = `${set.metadata.name}-${ordinal}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_HASH]: revisionName },
      annotations: t.metadata?.annotations,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name!, uid: set.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: { ...t.spec, hostname: name, ...(set.spec.serviceName ? { subdomain: set.spec.serviceName } : {}) },
    status: { phase: 'Pending' },
  };
}

const terminating = (p: Pod) => !!p.metadata.deletionTimestamp;
const terminal = (p: Pod) => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
const runningAndReady = (p: Pod) => p.status?.phase === 'Running' && isPodReady(p);
const revisionOf = (p: Pod) => p.metadata.labels?.[REVISION_HASH];

export function planStatefulSet(set: StatefulSet, pods: Pod[], currentRevision: string, updateRevision: string, nowMs = Date.now()): StatefulSetPlan {
  const replicaCount = set.spec.replicas ?? 1;
  const start = set.spec.ordinals?.start ?? 0;
  const minReady = set.spec.minReadySeconds ?? 0;
  const monotonic = (set.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
  const strategy = set.spec.updateStrategy ?? {};
  const rolling = (strategy.type ?? 'RollingUpdate') === 'RollingUpdate';
  const partition = rolling ? (strategy.rollingUpdate?.partition ?? 0) : 0;

  const byOrdinal = new Map<number, Pod>();
  for (const p of pods) {
    const ordinal = ordinalOf(set, p);
    if (ordinal !== undefined) byOrdinal.set(ordinal, p);
  }
  const wanted = Array.from({ length: replicaCount }, (_, i) => start + i);
  const condemned = [...byOrdinal.keys()].filter((o) => o < start || o >= start + replicaCount).sort((a, b) => b - a);
  const available = (p: Pod) => runningAndReady(p) && isPodAvailable(p, minReady, nowMs);
  const healthy = (p: Pod) => !terminating(p) && available(p);

  const status = statusOf(set, [...byOrdinal.values()], currentRevision, updateRevision, minReady, nowMs);
  const plan: StatefulSetPlan = { create: [], delete: [], status };
  const waitForReady = (p: Pod) => {
    const ready = (p.status?.conditions ?? []).find((c) => c.type === 'Ready' && c.status === 'True');
    if (!ready || !minReady) return;
    const left = Date.parse(ready.lastTransitionTime ?? '') + minReady * 1000 - nowMs;
    if (left > 0) plan.recheckAfterMs = Math.min(plan.recheckAfterMs ?? Infinity, left + 100);
  };

  // The replicas, lowest ordinal first.
  for (const ordinal of wanted) {
    const pod = byOrdinal.get(ordinal);
    if (!pod) {
      // Below the partition a pod is made again at the current revision; OnDelete and the rest at the update revision.
      plan.create.push({ ordinal, revision: rolling && ordinal < partition ? 'current' : 'update' });
      if (monotonic) return plan;
      continue;
    }
    if (terminal(pod) && !terminating(pod)) {
      plan.delete.push(pod); // made again on a later pass, once it is gone
      if (monotonic) return plan;
      continue;
    }
    if (monotonic && !healthy(pod)) {
      waitForReady(pod);
      return plan;
    }
  }

  // Those beyond the replica count, highest ordinal first; under OrderedReady one at a time, and
  // only while every other pod is healthy.
  for (const ordinal of condemned) {
    const pod = byOrdinal.get(ordinal)!;
    if (terminating(pod)) {
      if (monotonic) return plan;
      continue;
    }
    if (monotonic && [...byOrdinal.values()].some((p) => p !== pod && !healthy(p))) return plan;
    plan.delete.push(pod);
    if (monotonic) return plan;
  }

  // A rolling update: outdated pods from the highest ordinal down to the partition, at most
  // maxUnavailable of the updated range unavailable at once.
  if (!rolling) return plan;
  const range = wanted.filter((o) => o >= partition);
  const maxUnavailable = Math.max(1, scaled(strategy.rollingUpdate?.maxUnavailable, replicaCount, 1));
  let unavailable = range.filter((o) => {
    const p = byOrdinal.get(o);
    return !p || !healthy(p) || plan.delete.includes(p);
  }).length;
  for (const ordinal of [...range].reverse()) {
    const pod = byOrdinal.get(ordinal);
    if (!pod || terminating(pod) || revisionOf(pod) === updateRevision || plan.delete.includes(pod)) continue;
    if (unavailable >= maxUnavailable && healthy(pod)) break;
    plan.delete.push(pod);
    if (healthy(pod)) unavailable++;
  }
  return plan;
}

/** Kubernetes' computeReplicaStatus, and a finished rollout makes the update revision current. */
function statusOf(set: StatefulSet, pods: Pod[], currentRevision: string, updateRevision: string, minReady: number, nowMs: number): StatefulSetStatus {
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata.generation ?? 1,
    replicas: pods.length,
    readyReplicas: pods.filter(runningAndReady).length,
    availableReplicas: pods.filter((p) => runningAndReady(p) && isPodAvailable(p, minReady, nowMs)).length,
    currentReplicas: pods.filter((p) => !terminating(p) && revisionOf(p) === currentRevision).length,
    updatedReplicas: pods.filter((p) => !terminating(p) && revisionOf(p) === updateRevision).length,
    currentRevision,
    updateRevision,
    collisionCount: set.status?.collisionCount ?? 0,
  };
  if (status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
    status.currentRevision = updateRevision;
    status.currentReplicas = status.updatedReplicas;
  }
  return status;
}

// ---- volumeClaimTemplates (Kubernetes' stateful_set_utils.go getPersistentVolumeClaims, updateStorage,
// and the PersistentVolumeClaim retention policy's owner references) --------------------------

/** The claim of one template for one ordinal: TEMPLATE-SET-ORDINAL. */
export function claimName(set: StatefulSet, template: KubeObject, ordinal: number): string {
  return `${template.metadata.name}-${set.metadata.name}-${ordinal}`;
}

/** The claims an ordinal's pod uses, as they are created: the template with the set's selector labels. */
export function claimsFor(set: StatefulSet, ordinal: number): KubeObject[] {
  return (set.spec.volumeClaimTemplates ?? []).map((t) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(set, t, ordinal),
      namespace: set.metadata.namespace,
      labels: { ...(t.metadata.labels ?? {}), ...(set.spec.selector.matchLabels ?? {}) },
      ...(t.metadata.annotations ? { annotations: t.metadata.annotations } : {}),
    },
    spec: structuredClone(t.spec),
  }));
}

/** The pod with a volume for each claim template (replacing a template volume of the same name). */
export function withClaimVolumes(set: StatefulSet, pod: Pod, ordinal: number): Pod {
  const templates = set.spec.volumeClaimTemplates ?? [];
  if (!templates.length) return pod;
  const names = new Set(templates.map((t) => t.metadata.name));
  const volumes = (pod.spec.volumes ?? []).filter((v: any) => !names.has(v.name));
  for (const t of templates) volumes.push({ name: t.metadata.name!, persistentVolumeClaim: { claimName: claimName(set, t, ordinal) } } as any);
  return { ...pod, spec: { ...pod.spec, volumes } };
}

/**
 * The owner references a claim should carry under the retention policy: the set when whenDeleted
 * is Delete (the claim goes with the set), the condemned pod when whenScaled is Delete and its
 * ordinal is beyond the replicas (the claim goes with the pod). Other owners are kept.
 */
export function claimOwners(set: StatefulSet, claim: KubeObject, pod: Pod | undefined, condemned: boolean): OwnerReference[] {
  const policy = set.spec.persistentVolumeClaimRetentionPolicy ?? {};
  const others = (claim.metadata.ownerReferences ?? []).filter((r) => r.uid !== set.metadata.uid && !(r.kind === 'Pod' && r.apiVersion === 'v1' && r.name === pod?.metadata.name));
  const out = [...others];
  if (policy.whenDeleted === 'Delete') out.push({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name!, uid: set.metadata.uid!, controller: true, blockOwnerDeletion: true });
  if (policy.whenScaled === 'Delete' && condemned && pod) out.push({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: pod.metadata.uid!, controller: false, blockOwnerDeletion: true });
  return out;
}
