// Pods as controllers see them: the pods an owner controls, and a new pod from a template.
import type { KubeObject, Pod, PodTemplateSpec } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { randomSuffix } from '../../shared/store/store.ts';

/** The objects of a resource whose controller ownerReference is this owner, from the owner index (no full scan). */
export async function controlledBy<T extends KubeObject>(store: Store, owner: KubeObject, resource: string): Promise<T[]> {
  const refs = (await store.dependentsOf(owner.metadata.uid!)).filter((d) => d.resource === resource);
  const objects = await store.getMany<T>(resource, refs);
  return objects.filter((o) => (o.metadata.ownerReferences ?? []).find((r) => r.controller)?.uid === owner.metadata.uid);
}

/** The pods whose controller ownerReference is this owner. */
export function ownedPods(store: Store, owner: KubeObject): Promise<Pod[]> {
  return controlledBy<Pod>(store, owner, 'pods');
}

/**
 * A new pod for an owner's template, named like Kubernetes names them (owner name + random suffix).
 * The store admits it as it admits a pod from any client (defaults, tolerations, priority, QoS).
 */
export function podFromTemplate(owner: KubeObject & { spec: { template: PodTemplateSpec } }, kind: string, apiVersion: string): Pod {
  const template = structuredClone(owner.spec.template);
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
