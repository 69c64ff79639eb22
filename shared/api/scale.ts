// The autoscaling/v1 Scale of an object with a /scale subresource (Deployment, ReplicaSet, any
// kind that lists 'scale'): what the API server serves at .../NAME/scale and what the
// HorizontalPodAutoscaler reads and writes through, so both see the same replicas and selector.
import type { KubeObject } from '../types.ts';
import { RESOURCES, type ResourceInfo } from './resources.ts';
import { formatSelector } from './selectors.ts';

export function scaleOf(obj: KubeObject): KubeObject {
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

/**
 * The resource of a kind in a group, as a RESTMapper maps a scale target reference (the version is
 * not part of the match); an Error with Kubernetes' words when there is none or it has no scale.
 */
export function scaleTargetResource(group: string, kind: string): ResourceInfo | Error {
  const matches = RESOURCES.filter((r) => r.group === group && r.kind === kind);
  if (!matches.length) return new Error(`no matches for kind "${kind}" in group "${group}"`);
  return matches.find((r) => r.subresources.includes('scale')) ?? new Error('the server could not find the requested resource');
}
