// Pod priority, as Kubernetes' Priority admission plugin: a pod's priorityClassName (or the
// globalDefault class when it names none) resolves to spec.priority and spec.preemptionPolicy when
// the pod is created, by the API server and by controllers that create pods in the store.
import type { KubeObject, PodSpec } from '../types.ts';
import { ForbiddenError } from '../errors.ts';
import type { ClusterReader } from '../registry/strategy.ts';

export interface PriorityClass extends KubeObject {
  value: number;
  globalDefault?: boolean;
  description?: string;
  preemptionPolicy?: 'PreemptLowerPriority' | 'Never';
}

/** Classes above this value are reserved for the system classes. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;

/** The classes every cluster has (Kubernetes' scheduling.SystemPriorityClasses). */
export const SYSTEM_PRIORITY_CLASSES = [
  { name: 'system-node-critical', value: 2_000_001_000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2_000_000_000, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];

export function systemPriorityClass(name: string): PriorityClass {
  const c = SYSTEM_PRIORITY_CLASSES.find((x) => x.name === name)!;
  return { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: c.name }, value: c.value, description: c.description, preemptionPolicy: 'PreemptLowerPriority' };
}

/** When several classes are globalDefault, the lowest value wins (as Kubernetes documents). */
export function globalDefaultClass(classes: PriorityClass[]): PriorityClass | undefined {
  return classes.filter((c) => c.globalDefault).sort((a, b) => a.value - b.value)[0];
}

/**
 * Sets spec.priority (and spec.preemptionPolicy) from the named class, or from the globalDefault class.
 * Throws ForbiddenError (403, as Kubernetes' admission) for an unknown class or a priority that contradicts it.
 */
export function applyPriority(spec: PodSpec, podName: string, classes: PriorityClass[]): void {
  const name: string | undefined = spec.priorityClassName || undefined;
  const cls = name
    ? classes.find((c) => c.metadata.name === name) ?? (SYSTEM_PRIORITY_CLASSES.some((c) => c.name === name) ? systemPriorityClass(name) : undefined)
    : globalDefaultClass(classes);
  if (name && !cls) throw new ForbiddenError(`pods "${podName}" is forbidden: no PriorityClass with name ${name} was found`);
  const priority = cls?.value ?? 0;
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority) {
    throw new ForbiddenError(`pods "${podName}" is forbidden: the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
  }
  if (cls) spec.priorityClassName = cls.metadata.name;
  spec.priority = priority;
  if (cls) spec.preemptionPolicy = cls.preemptionPolicy ?? 'PreemptLowerPriority';
}

/** applyPriority with the classes read from the store (only the named one, or all for the default). */
export async function resolvePriority(store: Pick<ClusterReader, 'get' | 'list'>, spec: PodSpec, podName: string): Promise<void> {
  const name: string | undefined = spec.priorityClassName || undefined;
  let classes: PriorityClass[];
  if (name) {
    const one = await store.get<PriorityClass>('priorityclasses', undefined, name);
    classes = one ? [one] : [];
  } else {
    classes = (await store.list<PriorityClass>('priorityclasses')).items;
  }
  applyPriority(spec, podName, classes);
}
