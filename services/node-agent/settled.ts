// Which pods a periodic resync can leave alone. A node agent re-reconciles its pods on a timer to
// catch what its queue missed; for a host of thousands of simulated nodes, re-reconciling every
// pod every period would be all it does. A pod whose recorded status already says what the
// runtime shows needs nothing: running with each of its containers running, or finished with
// none left running.
import type { Pod } from '../../shared/types.ts';
import type { ObservedContainer } from './runtime/types.ts';

export function isSettled(pod: Pod, containers: ObservedContainer[]): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  const mine = containers.filter((c) => c.pod.uid === pod.metadata.uid);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return !mine.some((c) => c.state === 'running');
  if (phase !== 'Running') return false;
  const statuses = pod.status?.containerStatuses ?? [];
  // An ephemeral container runs once: settled when its instance exists and the status says what it does.
  const ephemeralStatuses = (pod.status as { ephemeralContainerStatuses?: { name: string; state?: Record<string, unknown> }[] } | undefined)?.ephemeralContainerStatuses ?? [];
  const ephemeralSettled = (pod.spec.ephemeralContainers ?? []).every((spec) => {
    const instance = mine.find((c) => c.role === 'ephemeral' && c.name === spec.name);
    const st = ephemeralStatuses.find((s) => s.name === spec.name)?.state;
    return instance && (instance.state === 'running' ? !!st?.running : !!st?.terminated);
  });
  return ephemeralSettled && pod.spec.containers.every((spec) =>
    mine.some((c) => c.role === 'app' && c.name === spec.name && c.state === 'running') &&
    statuses.some((s) => s.name === spec.name && s.state?.running));
}
