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
import { customResourceDefinitionStrategy, setBuiltinPlurals } from './kinds/customresourcedefinition.ts';
import type { CustomKinds } from './custom-resources.ts';
import { mutatingWebhookConfigurationStrategy, validatingWebhookConfigurationStrategy } from './kinds/webhookconfiguration.ts';
import { validatingAdmissionPolicyBindingStrategy, validatingAdmissionPolicyStrategy } from './kinds/validatingadmissionpolicy.ts';
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
  customResourceDefinitionStrategy,
  validatingWebhookConfigurationStrategy,
  mutatingWebhookConfigurationStrategy,
  validatingAdmissionPolicyStrategy,
  validatingAdmissionPolicyBindingStrategy,
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

// ---- custom kinds -----------------------------------------------------------------------
// The kinds CustomResourceDefinitions define join the built-in ones while the process runs: each
// process that serves or reconciles kinds follows the CRDs (shared/store/custom-kinds-sync.ts) and
// installs what they define here. Lookups below see both; built-in kinds always win a plural.

const BUILTIN_PLURALS = new Set([...STRATEGIES, ...CONVERSIONS, ...CREATE_ONLY_KINDS].map((s) => s.resource.plural));
setBuiltinPlurals(() => BUILTIN_PLURALS);

let customStrategies: Strategy[] = [];
let customConversions: Conversion[] = [];
let byPlural = new Map(STRATEGIES.map((s) => [s.resource.plural, s]));
let byKind = new Map(STRATEGIES.map((s) => [s.resource.kind, s]));
const listeners = new Set<() => void>();

/** Replaces the custom kinds served by this process (the CRDs as they are now). */
export function installCustomKinds(kinds: CustomKinds[]): void {
  const fresh = kinds.filter((k) => !BUILTIN_PLURALS.has(k.strategy.resource.plural));
  customStrategies = fresh.map((k) => k.strategy);
  customConversions = fresh.flatMap((k) => k.conversions);
  byPlural = new Map([...customStrategies, ...STRATEGIES].map((s) => [s.resource.plural, s]));
  byKind = new Map([...customStrategies, ...STRATEGIES].map((s) => [s.resource.kind, s]));
  for (const listener of listeners) listener();
}

/** Called after every change of the custom kinds (discovery, OpenAPI and the resource lists rebuild). */
export function onKindsChanged(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The stored kinds: built-in, then custom. */
export function allStrategies(): Strategy[] {
  return [...STRATEGIES, ...customStrategies];
}

/** The other served versions of stored kinds: built-in, then custom. */
export function allConversions(): Conversion[] {
  return [...CONVERSIONS, ...customConversions];
}

/** Whether a plural is a custom resource's (defined by a CRD). */
export function isCustomResource(plural: string): boolean {
  return !BUILTIN_PLURALS.has(plural) && byPlural.has(plural);
}

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
  return allConversions().find((c) => c.resource.group === r.group && c.resource.version === r.version && c.resource.plural === r.plural);
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
