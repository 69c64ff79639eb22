// The one registry of kinds: each kind Wharf serves is one strategy here. The API server's routes
// and discovery, the store's write path, OpenAPI and the Tables all read this list.
import type { Conversion, ResourceInfo, Strategy } from './strategy.ts';
import { namespaceStrategy } from './kinds/namespace.ts';
import { nodeStrategy } from './kinds/node.ts';
import { podStrategy } from './kinds/pod.ts';
import { serviceStrategy } from './kinds/service.ts';
import { endpointsStrategy } from './kinds/endpoints.ts';
import { eventStrategy, eventsV1Conversion } from './kinds/event.ts';
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
import { resourceQuotaStrategy } from './kinds/resourcequota.ts';
import { limitRangeStrategy } from './kinds/limitrange.ts';

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
  resourceQuotaStrategy,
  limitRangeStrategy,
];

/** Stored kinds served in one more group-version. */
export const CONVERSIONS: Conversion[] = [eventsV1Conversion];

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

/** The conversion that serves this resource, when it is another version of a stored kind. */
export function conversionFor(r: ResourceInfo): Conversion | undefined {
  return CONVERSIONS.find((c) => c.resource.group === r.group && c.resource.version === r.version && c.resource.plural === r.plural);
}

/** The schema of a served resource, in its own version's form (OpenAPI). */
export function servedSchema(r: ResourceInfo): Record<string, any> | undefined {
  return conversionFor(r)?.schema ?? strategyFor(r.plural).schema;
}

// A conversion is stored under its own plural: the store keys it by that.
for (const c of CONVERSIONS) strategyFor(c.resource.plural);
