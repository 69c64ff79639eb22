// The cluster roles and bindings every cluster starts with (Kubernetes' bootstrappolicy, as of
// v1.32, the part that concerns what Wharf serves), and their reconciliation at API server start
// (pkg/registry/rbac/reconciliation): a missing one is created; one annotated autoupdate=true gains
// back any default permission, subject, selector, label or annotation it lacks (nothing is taken
// away); a binding whose roleRef changed is recreated. Safe with several API servers racing: every
// write is a create that may find the object there already, or a compare-and-set update of what
// was read.
import type { KubeObject } from '../../../shared/types.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Store } from '../../../shared/store/store.ts';
import { isAlreadyExists, isNotFound } from '../../../shared/errors.ts';
import { AUTHENTICATED, SERVICE_ACCOUNTS, SYSTEM_MASTERS, UNAUTHENTICATED } from '../../../shared/auth/user.ts';
import { covers, RBAC_GROUP, type PolicyRule, type Subject } from '../../../shared/auth/rbac.ts';

export const BOOTSTRAPPING_LABEL = 'kubernetes.io/bootstrapping';
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
const AGGREGATE_TO = (role: 'admin' | 'edit' | 'view') => `${RBAC_GROUP}/aggregate-to-${role}`;

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({ verbs, apiGroups, resources });
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ verbs, nonResourceURLs });

function clusterRole(name: string, rules: PolicyRule[], extra: { labels?: Record<string, string>; aggregateFrom?: 'admin' | 'edit' | 'view' } = {}): KubeObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: { name, labels: { [BOOTSTRAPPING_LABEL]: 'rbac-defaults', ...extra.labels }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    ...(extra.aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_TO(extra.aggregateFrom)]: 'true' } }] } } : {}),
    rules,
  };
}

function clusterRoleBinding(name: string, role: string, groups: string[]): KubeObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { [BOOTSTRAPPING_LABEL]: 'rbac-defaults' }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
    subjects: groups.map((g): Subject => ({ apiGroup: RBAC_GROUP, kind: 'Group', name: g })),
  };
}

export const DEFAULT_CLUSTER_ROLES: KubeObject[] = [
  clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
  // admin, edit and view are what the aggregation controller gathers into them.
  clusterRole('admin', [], { aggregateFrom: 'admin' }),
  clusterRole('edit', [], { aggregateFrom: 'edit', labels: { [AGGREGATE_TO('admin')]: 'true' } }),
  clusterRole('view', [], { aggregateFrom: 'view', labels: { [AGGREGATE_TO('edit')]: 'true' } }),
  clusterRole('system:aggregate-to-admin', [
    rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
    rule(ALL_VERBS, [RBAC_GROUP], ['rolebindings', 'roles']),
  ], { labels: { [AGGREGATE_TO('admin')]: 'true' } }),
  clusterRole('system:aggregate-to-edit', [
    rule(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
    rule(['impersonate'], [''], ['serviceaccounts']),
    rule(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
    rule(['create'], [''], ['pods/eviction']),
    rule(WRITE, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
    rule(['create'], [''], ['serviceaccounts/token']),
    rule(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
    rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
    rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
    rule(WRITE, ['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale']),
    rule(WRITE, ['policy'], ['poddisruptionbudgets']),
    rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
    rule(ALL_VERBS, ['coordination.k8s.io'], ['leases']),
  ], { labels: { [AGGREGATE_TO('edit')]: 'true' } }),
  clusterRole('system:aggregate-to-view', [
    rule(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
    rule(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
    rule(READ, [''], ['namespaces']),
    rule(READ, ['discovery.k8s.io'], ['endpointslices']),
    rule(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
    rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
    rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
    rule(READ, ['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale']),
    rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
    rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
  ], { labels: { [AGGREGATE_TO('view')]: 'true' } }),
  // Not Kubernetes' own but metrics-server's (its manifests ship it): Wharf serves metrics.k8s.io
  // itself, so it makes the role that lets view, edit and admin read it.
  clusterRole('system:aggregated-metrics-reader', [rule(READ, ['metrics.k8s.io'], ['pods', 'nodes'])], {
    labels: { 'k8s-app': 'metrics-server', [AGGREGATE_TO('admin')]: 'true', [AGGREGATE_TO('edit')]: 'true', [AGGREGATE_TO('view')]: 'true' },
  }),
  clusterRole('system:basic-user', [
    rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
    rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
  ]),
  clusterRole('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])]),
  clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
  clusterRole('system:monitoring', [urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'])]),
  clusterRole('system:auth-delegator', [
    rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
  ]),
  clusterRole('system:service-account-issuer-discovery', [urls(['get'], ['/.well-known/openid-configuration', '/openid/v1/jwks'])]),
];

export const DEFAULT_CLUSTER_ROLE_BINDINGS: KubeObject[] = [
  clusterRoleBinding('cluster-admin', 'cluster-admin', [SYSTEM_MASTERS]),
  clusterRoleBinding('system:basic-user', 'system:basic-user', [AUTHENTICATED]),
  clusterRoleBinding('system:discovery', 'system:discovery', [AUTHENTICATED]),
  clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [AUTHENTICATED, UNAUTHENTICATED]),
  clusterRoleBinding('system:monitoring', 'system:monitoring', ['system:monitoring']),
  clusterRoleBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [SERVICE_ACCOUNTS]),
];

export type Reconciled = { action: 'none' } | { action: 'update'; object: KubeObject } | { action: 'recreate'; object: KubeObject };

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The existing labels and annotations keep their values; the defaults' are added where missing. */
function mergedMetadata(existing: KubeObject, expected: KubeObject): KubeObject['metadata'] {
  return {
    ...existing.metadata,
    labels: { ...expected.metadata.labels, ...existing.metadata.labels },
    annotations: { ...expected.metadata.annotations, ...existing.metadata.annotations },
  };
}

function autoupdate(existing: KubeObject): boolean {
  return existing.metadata.annotations?.[AUTOUPDATE_ANNOTATION] !== 'false';
}

/**
 * What a default ClusterRole that exists needs: the default's missing permissions added (an
 * aggregated role: its missing selectors instead, its rules being the controller's), labels and
 * annotations completed. Nothing for one annotated autoupdate=false.
 */
export function reconcileClusterRole(existing: KubeObject, expected: KubeObject): Reconciled {
  if (!autoupdate(existing)) return { action: 'none' };
  const next: KubeObject = { ...existing, metadata: mergedMetadata(existing, expected) };
  if (expected.aggregationRule) {
    const have = existing.aggregationRule?.clusterRoleSelectors ?? [];
    const missing = expected.aggregationRule.clusterRoleSelectors.filter((s: unknown) => !have.some((h: unknown) => sameJson(h, s)));
    next.aggregationRule = { ...existing.aggregationRule, clusterRoleSelectors: [...have, ...missing] };
  } else {
    const { missing } = covers(existing.rules ?? [], expected.rules ?? []);
    if (missing.length) next.rules = [...(existing.rules ?? []), ...missing];
  }
  return sameJson(next, existing) ? { action: 'none' } : { action: 'update', object: next };
}

/** A default ClusterRoleBinding that exists: its missing subjects added; recreated if its roleRef is not the default's. */
export function reconcileClusterRoleBinding(existing: KubeObject, expected: KubeObject): Reconciled {
  if (!autoupdate(existing)) return { action: 'none' };
  if (!sameJson(existing.roleRef, expected.roleRef)) {
    return { action: 'recreate', object: { ...expected, metadata: mergedMetadata(existing, expected), subjects: existing.subjects ?? [] } };
  }
  const have: Subject[] = existing.subjects ?? [];
  const missing = (expected.subjects as Subject[]).filter((s) => !have.some((h) => h.kind === s.kind && h.name === s.name && (h.namespace ?? '') === (s.namespace ?? '')));
  const next: KubeObject = { ...existing, metadata: mergedMetadata(existing, expected), subjects: [...have, ...missing] };
  return sameJson(next, existing) ? { action: 'none' } : { action: 'update', object: next };
}

async function ensure(store: Store, resource: 'clusterroles' | 'clusterrolebindings', expected: KubeObject, reconcile: (existing: KubeObject, expected: KubeObject) => Reconciled, log: Logger): Promise<void> {
  const name = expected.metadata.name!;
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await store.get(resource, undefined, name);
    if (!existing) {
      try {
        await store.create(resource, structuredClone(expected));
        log.info({ resource, object: name }, 'created default RBAC object');
        return;
      } catch (err) {
        if (isAlreadyExists(err)) continue; // another API server made it: reconcile what it made
        throw err;
      }
    }
    const plan = reconcile(existing, expected);
    if (plan.action === 'none') return;
    try {
      if (plan.action === 'recreate') {
        await store.delete(resource, undefined, name, { preconditions: { uid: existing.metadata.uid } });
        continue;
      }
      // Written only over the version read: a racing API server's write makes this one read again.
      await store.update(resource, { ...plan.object, metadata: { ...plan.object.metadata, resourceVersion: existing.metadata.resourceVersion } });
      log.info({ resource, object: name }, 'reconciled default RBAC object');
      return;
    } catch (err) {
      if (isNotFound(err) || (err as { reason?: string }).reason === 'Conflict') continue;
      throw err;
    }
  }
}

/** Creates or reconciles every default cluster role, then every default binding. */
export async function ensureRbacDefaults(store: Store, log: Logger): Promise<void> {
  for (const role of DEFAULT_CLUSTER_ROLES) await ensure(store, 'clusterroles', role, reconcileClusterRole, log);
  for (const binding of DEFAULT_CLUSTER_ROLE_BINDINGS) await ensure(store, 'clusterrolebindings', binding, reconcileClusterRoleBinding, log);
}
