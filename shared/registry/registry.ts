// The one registry of kinds: each kind Wharf serves is one strategy here. The API server's routes
// and discovery, the store's write path, OpenAPI and the Tables all read this list.
import type { Strategy } from './strategy.ts';
import { namespaceStrategy } from './kinds/namespace.ts';
import { nodeStrategy } from './kinds/node.ts';
import { podStrategy } from './kinds/pod.ts';
import { serviceStrategy } from './kinds/service.ts';
import { endpointsStrategy } from './kinds/endpoints.ts';
import { eventStrategy } from './kinds/event.ts';
import { configMapStrategy } from './kinds/configmap.ts';
import { secretStrategy } from './kinds/secret.ts';
import { deploymentStrategy } from './kinds/deployment.ts';
import { replicaSetStrategy } from './kinds/replicaset.ts';
import { daemonSetStrategy } from './kinds/daemonset.ts';
import { jobStrategy } from './kinds/job.ts';
import { cronJobStrategy } from './kinds/cronjob.ts';
import { leaseStrategy } from './kinds/lease.ts';
import { podDisruptionBudgetStrategy } from './kinds/poddisruptionbudget.ts';
import { priorityClassStrategy } from './kinds/priorityclass.ts';
import { endpointSliceStrategy } from './kinds/endpointslice.ts';

export const STRATEGIES: Strategy[] = [
  namespaceStrategy,
  nodeStrategy,
  podStrategy,
  serviceStrategy,
  endpointsStrategy,
  eventStrategy,
  configMapStrategy,
  secretStrategy,
  deploymentStrategy,
  replicaSetStrategy,
  daemonSetStrategy,
  jobStrategy,
  cronJobStrategy,
  leaseStrategy,
  podDisruptionBudgetStrategy,
  priorityClassStrategy,
  endpointSliceStrategy,
];

const byPlural = new Map(STRATEGIES.map((s) => [s.resource.plural, s]));
const byKind = new Map(STRATEGIES.map((s) => [s.resource.kind, s]));

/** The strategy of a resource Wharf serves ("pods"). */
export function strategyFor(plural: string): Strategy {
  const s = byPlural.get(plural);
  if (!s) throw new Error(`unknown resource ${plural}`);
  return s;
}

/** The strategy of a kind ("Pod"), if Wharf serves it. */
export function strategyForKind(kind: string): Strategy | undefined {
  return byKind.get(kind);
}
