// The pods/ephemeralcontainers subresource's rules (Kubernetes' EphemeralContainersStrategy and
// ValidatePodEphemeralContainersUpdate): a write through it changes only spec.ephemeralContainers,
// and there it may only add; what exists may be neither changed nor removed.
import type { KubeObject, StatusCause } from '../types.ts';
import { deepEqual } from '../util.ts';
import { forbidden } from './validation.ts';

const FIELD = 'spec.ephemeralContainers';

/** The pod a write through the subresource stores: the current pod with the writer's ephemeral containers, nothing else of it. */
export function withEphemeralContainers(old: KubeObject, input: KubeObject): KubeObject {
  const next = structuredClone(old);
  const wanted = input?.spec?.ephemeralContainers;
  next.spec = { ...next.spec };
  if (wanted === undefined || wanted === null) delete next.spec.ephemeralContainers;
  else next.spec.ephemeralContainers = structuredClone(wanted);
  return next;
}

/** A short account of what changed in a container, in place of the Go diff Kubernetes appends. */
function describeChange(old: Record<string, unknown>, next: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])].sort();
  return keys
    .filter((k) => !deepEqual(old[k], next[k]))
    .map((k) => `  ${k}:\n-   ${JSON.stringify(old[k] ?? null)}\n+   ${JSON.stringify(next[k] ?? null)}\n`)
    .join('');
}

/**
 * Kubernetes' ValidatePodEphemeralContainersUpdate, part 2: each existing ephemeral container is
 * still there (order may change: a patch does not keep it) and unchanged. Static pods have none.
 */
export function ephemeralContainersUpdateErrors(pod: KubeObject, old: KubeObject): StatusCause[] {
  if (old.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return [forbidden('', 'static pods do not support ephemeral containers')];
  const list = (p: KubeObject): any[] => (Array.isArray(p.spec?.ephemeralContainers) ? p.spec.ephemeralContainers : []);
  const byName = new Map(list(pod).map((c) => [c?.name, c]));
  const out: StatusCause[] = [];
  for (const before of list(old)) {
    const now = byName.get(before?.name);
    if (!now) out.push(forbidden(FIELD, `existing ephemeral containers ${JSON.stringify(before?.name)} may not be removed\n`));
    else if (!deepEqual(before, now)) out.push(forbidden(FIELD, `existing ephemeral containers ${JSON.stringify(before?.name)} may not be changed\n${describeChange(before, now)}`));
  }
  return out;
}
