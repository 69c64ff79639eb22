// Pods as controllers see them: the pods an owner controls, and a new pod from a template.
import type { KubeObject, Pod, PodTemplateSpec } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { randomSuffix } from '../../shared/store/store.ts';
import { addDefaultTolerations } from '../../shared/api/defaults.ts';
import { resolvePriority } from '../../shared/api/priority.ts';

/** The pods whose controller ownerReference is this owner, from the owner index (no full scan). */
export async function ownedPods(store: Store, owner: KubeObject): Promise<Pod[]> {
  const refs = (await store.dependentsOf(owner.metadata.uid!)).filter((d) => d.resource === 'pods');
  if (!refs.length) return [];
  const pipeline = store.redis.pipeline();
  for (const d of refs) pipeline.hget(store.keys.objects('pods', d.namespace), d.name);
  const replies = (await pipeline.exec()) ?? [];
  const pods: Pod[] = [];
  for (const [err, json] of replies) {
    if (err || !json) continue;
    const pod = JSON.parse(json as string) as Pod;
    const ref = (pod.metadata.ownerReferences ?? []).find((o) => o.controller);
    if (ref?.uid === owner.metadata.uid) pods.push(pod);
  }
  return pods;
}

/** A new pod for an owner's template, named like Kubernetes names them (owner name + random suffix). */
export function podFromTemplate(owner: KubeObject & { spec: { template: PodTemplateSpec } }, kind: string, apiVersion: string): Pod {
  const template = structuredClone(owner.spec.template);
  // Created in the store directly, the pod gets here what the API server's admission gives a pod.
  addDefaultTolerations(template.spec);
  const prefix = owner.metadata.name!.length > 57 ? owner.metadata.name!.slice(0, 57) : owner.metadata.name!;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${prefix}-${randomSuffix()}`,
      namespace: owner.metadata.namespace,
      labels: template.metadata?.labels,
      annotations: template.metadata?.annotations,
      ownerReferences: [{ apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: template.spec,
    status: { phase: 'Pending' },
  };
}

/** Creates a pod in the store with what the API server's priority admission would give it (403 for an unknown class). */
export async function createPod(store: Store, pod: Pod): Promise<Pod> {
  await resolvePriority(store, pod.spec, pod.metadata.name!);
  return store.create<Pod>('pods', pod);
}
