// Preemption as kube-scheduler's DefaultPreemption, as a pure function over the snapshot: when a pod
// fits nowhere, find the node where evicting the fewest, lowest-priority pods lets it pass every
// filter. The adapter deletes those victims and nominates the node; the pod binds on a retry.
import type { Pod } from '../../shared/types.ts';
import { DEFAULT_FILTERS, SKIP, requestsOf, type FilterPlugin, type NodeInfo } from './plugins.ts';

export const priorityOf = (pod: Pod): number => pod.spec.priority ?? 0;

export interface PreemptionPlan {
  node: string;
  /** Highest priority first. */
  victims: Pod[];
}

/** Whether the pod may preempt now: its policy allows it and no victim of an earlier preemption is still terminating on its nominated node. */
export function mayPreempt(pod: Pod, nodes: NodeInfo[]): boolean {
  if (pod.spec.preemptionPolicy === 'Never') return false;
  const nominated = pod.status?.nominatedNodeName;
  if (!nominated) return true;
  const info = nodes.find((n) => n.node.metadata.name === nominated);
  return !(info?.pods ?? []).some((p) => p.metadata.deletionTimestamp && priorityOf(p) < priorityOf(pod));
}

function fits(pod: Pod, nodes: NodeInfo[], index: number, filters: FilterPlugin[]): boolean {
  const states = filters.map((f) => f.preFilter?.(pod, nodes));
  return filters.every((f, i) => states[i] === SKIP || f.filter(pod, nodes[index], states[i]).fits);
}

/** The node with `pods` on it instead of its own, with the usage adjusted. */
function withPods(info: NodeInfo, pods: Pod[]): NodeInfo {
  const used = { ...info.used };
  for (const p of info.pods ?? []) {
    if (pods.includes(p)) continue;
    const r = requestsOf(p);
    used.cpuMillis -= r.cpuMillis;
    used.memoryBytes -= r.memoryBytes;
    used.pods -= 1;
  }
  return { ...info, used, pods };
}

/**
 * The victims on one node: remove every lower-priority pod; if the pod then fits, put back as many
 * as possible, highest priority first, so the ones evicted are the fewest and least important.
 */
export function victimsOn(pod: Pod, nodes: NodeInfo[], index: number, filters: FilterPlugin[] = DEFAULT_FILTERS): Pod[] | undefined {
  const info = nodes[index];
  const all = info.pods ?? [];
  const lower = all.filter((p) => priorityOf(p) < priorityOf(pod) && !p.metadata.deletionTimestamp);
  if (!lower.length) return undefined;
  const trial = [...nodes];
  let kept = all.filter((p) => !lower.includes(p));
  trial[index] = withPods(info, kept);
  if (!fits(pod, trial, index, filters)) return undefined;
  const victims: Pod[] = [];
  const byImportance = [...lower].sort((a, b) => priorityOf(b) - priorityOf(a) || (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
  for (const p of byImportance) {
    trial[index] = withPods(info, [...kept, p]);
    if (fits(pod, trial, index, filters)) kept = [...kept, p];
    else victims.push(p);
  }
  return victims;
}

/** The best node to preempt on: lowest highest-victim priority, then fewest victims, then lowest sum of priorities. */
export function selectVictims(pod: Pod, nodes: NodeInfo[], filters: FilterPlugin[] = DEFAULT_FILTERS): PreemptionPlan | undefined {
  if (!mayPreempt(pod, nodes)) return undefined;
  let best: PreemptionPlan | undefined;
  const key = (v: Pod[]) => [Math.max(...v.map(priorityOf)), v.length, v.reduce((s, p) => s + priorityOf(p), 0)];
  for (let i = 0; i < nodes.length; i++) {
    const victims = victimsOn(pod, nodes, i, filters);
    if (!victims?.length) continue;
    if (best) {
      const [a, b] = [key(victims), key(best.victims)];
      const better = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
      if (better >= 0) continue;
    }
    best = { node: nodes[i].node.metadata.name!, victims };
  }
  return best;
}

/**
 * The nodes as a pod sees them when others wait for room they preempted: each nominated pod of at
 * least the pod's priority counts against its nominated node, so a lower-priority pod cannot take
 * the room back (as kube-scheduler adds nominated pods before filtering).
 */
export function withNominated(pod: Pod, nodes: NodeInfo[], nominated: Pod[]): NodeInfo[] {
  const waiting = nominated.filter((p) => p.metadata.uid !== pod.metadata.uid && priorityOf(p) >= priorityOf(pod));
  if (!waiting.length) return nodes;
  return nodes.map((info) => {
    const here = waiting.filter((p) => p.status?.nominatedNodeName === info.node.metadata.name);
    if (!here.length) return info;
    const used = { ...info.used };
    for (const p of here) {
      const r = requestsOf(p);
      used.cpuMillis += r.cpuMillis;
      used.memoryBytes += r.memoryBytes;
      used.pods += 1;
    }
    return { ...info, used, pods: [...(info.pods ?? []), ...here.map((p) => ({ ...p, spec: { ...p.spec, nodeName: info.node.metadata.name } }))] };
  });
}
