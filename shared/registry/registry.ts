// The one registry of kinds: each kind Wharf serves is one strategy here. The API server's routes
// and discovery, the store's write path, OpenAPI and the Tables all read this list.
import type { Conversion, CreateOnlyKind, ResourceInfo, Strategy } from './strategy.ts';
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
import { controllerRevisionStrategy } from './kinds/controllerrevision.ts';
import { statefulSetStrategy } from './kinds/statefulset.ts';
import { jobStrategy } from './kinds/job.ts';
import { cronJobStrategy } from './kinds/cronjob.ts';
import { leaseStrategy } from './kinds/lease.ts';
import { podDisruptionBudgetStrategy } from './kinds/poddisruptionbudget.ts';
import { priorityClassStrategy } from './kinds/priorityclass.ts';
import { endpointSliceStrategy } from './kinds/endpointslice.ts';
import { serviceAccountStrategy } from './kinds/serviceaccount.ts';
import { selfSubjectReviewKind, tokenReviewKind } from './kinds/authentication.ts';
import { roleStrategy } from './kinds/role.ts';
import { clusterRoleStrategy } from './kinds/clusterrole.ts';
import { roleBindingStrategy } from './kinds/rolebinding.ts';
import { clusterRoleBindingStrategy } from './kinds/clusterrolebinding.ts';
import { localSubjectAccessReviewKind, selfSubjectAccessReviewKind, selfSubjectRulesReviewKind, subjectAccessReviewKind } from './kinds/access-reviews.ts';
import { resourceQuotaStrategy } from './kinds/resourcequota.ts';
import { limitRangeStrategy } from './kinds/limitrange.ts';
import { horizontalPodAutoscalerStrategy } from './kinds/horizontalpodautoscaler.ts';
import { hpaV1Conversion } from './kinds/horizontalpodautoscaler-v1.ts';
import { scaledObjectStrategy } from './kinds/scaledobject.ts';
import { triggerAuthenticationStrategy } from './kinds/triggerauthentication.ts';
import { httpScaledObjectStrategy } from './kinds/httpscaledobject.ts';
import { persistentVolumeStrategy } from './kinds/persistentvolume.ts';
import { persistentVolumeClaimStrategy } from './kinds/persistentvolumeclaim.ts';
import { storageClassStrategy } from './kinds/storageclass.ts';

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
  controllerRevisionStrategy,
  statefulSetStrategy,
  jobStrategy,
  cronJobStrategy,
  leaseStrategy,
  podDisruptionBudgetStrategy,
  priorityClassStrategy,
  endpointSliceStrategy,
  serviceAccountStrategy,
  roleStrategy,
  clusterRoleStrategy,
  roleBindingStrategy,
  clusterRoleBindingStrategy,
  resourceQuotaStrategy,
  limitRangeStrategy,
  horizontalPodAutoscalerStrategy,
  scaledObjectStrategy,
  triggerAuthenticationStrategy,
  httpScaledObjectStrategy,
  persistentVolumeStrategy,
  persistentVolumeClaimStrategy,
  storageClassStrategy,
];

/** Stored kinds served in one more group-version. */
export const CONVERSIONS: Conversion[] = [eventsV1Conversion, hpaV1Conversion];

/** Kinds that are only created, answered and never stored (the review APIs). */
export const CREATE_ONLY_KINDS: CreateOnlyKind[] = [
  tokenReviewKind,
  selfSubjectReviewKind,
  subjectAccessReviewKind,
  selfSubjectAccessReviewKind,
  localSubjectAccessReviewKind,
  selfSubjectRulesReviewKind,
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

/** The conversion that serves this resource, when it is another version of a stored kind. */
export function conversionFor(r: ResourceInfo): Conversion | undefined {
  return CONVERSIONS.find((c) => c.resource.group === r.group && c.resource.version === r.version && c.resource.plural === r.plural);
}

/** The create-only kind this resource is, if it is one (nothing of it is stored). */
export function createOnlyKindFor(r: ResourceInfo): CreateOnlyKind | undefined {
  return CREATE_ONLY_KINDS.find((c) => c.resource.group === r.group && c.resource.version === r.version && c.resource.plural === r.plural);
}

/** The schema of a served resource, in its own version's form (OpenAPI). */
export function servedSchema(r: ResourceInfo): Record<string, any> | undefined {
  return createOnlyKindFor(r)?.schema ?? conversionFor(r)?.schema ?? strategyFor(r.plural).schema;
}

// A conversion is stored under its own plural: the store keys it by that.
for (const c of CONVERSIONS) strategyFor(c.resource.plural);
