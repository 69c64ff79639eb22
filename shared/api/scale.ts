// The autoscaling/v1 Scale of an object with a /scale subresource (Deployment, ReplicaSet, any
// kind that lists 'scale'): what the API server serves at .../NAME/scale and what the
// HorizontalPodAutoscaler reads and writes through, so both see the same replicas and selector.
import type { KubeObject } from '../types.ts';
import { RESOURCES, type ResourceInfo } from './resources.ts';
import { formatSelector } from './selectors.ts';
import { first, setPath } from './jsonpath.ts';
import { strategyFor } from '../registry/registry.ts';

/**
 * The Scale of obj, a resource r: a custom resource's from its CRD's scale paths (Kubernetes'
 * customresource scale: the selector path holds a string, a missing replicas count is 0).
 */
export function scaleOf(obj: KubeObject, r?: ResourceInfo): KubeObject {
  const paths = r ? strategyFor(r.plural).scale : undefined;
  if (paths) {
    const num = (v: unknown) => (typeof v === 'number' ? v : 0);
    const selector = paths.labelSelectorPath ? first(obj, paths.labelSelectorPath) : undefined;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp },
      spec: { replicas: num(first(obj, paths.specReplicasPath)) },
      status: { replicas: num(first(obj, paths.statusReplicasPath)), selector: typeof selector === 'string' ? selector : '' },
    };
  }
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: obj.spec?.replicas ?? 1 },
    status: { replicas: obj.status?.replicas ?? 0, selector: formatSelector(obj.spec?.selector) },
  };
}

/** Writes the replicas a Scale asks for into obj, where resource r keeps them. */
export function setScaleReplicas(obj: KubeObject, replicas: number, r?: ResourceInfo): KubeObject {
  const paths = r ? strategyFor(r.plural).scale : undefined;
  if (paths) setPath(obj, paths.specReplicasPath, replicas);
  else obj.spec = { ...obj.spec, replicas };
  return obj;
}

/**
 * The resource of a kind in a group, as a RESTMapper maps a scale target reference (the version is
 * not part of the match); an Error with Kubernetes' words when there is none or it has no scale.
 */
export function scaleTargetResource(group: string, kind: string): ResourceInfo | Error {
  const matches = RESOURCES.filter((r) => r.group === group && r.kind === kind);
  if (!matches.length) return new Error(`no matches for kind "${kind}" in group "${group}"`);
  return matches.find((r) => r.subresources.includes('scale')) ?? new Error('the server could not find the requested resource');
}
