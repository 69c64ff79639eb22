// RBAC's decisions as pure functions (shared/auth/rbac.ts), against Kubernetes' rule matching
// (evaluation_helpers.go), rule resolution (rule.go), escalation checks (policy_comparator.go,
// ConfirmNoEscalation) and aggregation; and the default policy's reconciliation.
import test from 'ava';
import { aggregateRules, authorize, compactRules, compactString, covers, escalationError, ruleAllows, rulesFor, type Attributes, type BindingLike, type PolicyRule, type RbacSource, type RoleLike } from '../../shared/auth/rbac.ts';
import { ADMIN, serviceAccountUser, type UserInfo } from '../../shared/auth/user.ts';
import { selectorMatches } from '../../shared/api/selectors.ts';
import { DEFAULT_CLUSTER_ROLES, DEFAULT_CLUSTER_ROLE_BINDINGS, reconcileClusterRole, reconcileClusterRoleBinding } from '../../services/api/authz/bootstrap-policy.ts';

const jane: UserInfo = { username: 'jane', groups: ['devs', 'system:authenticated'] };
const res = (verb: string, resource: string, extra: Partial<Attributes> = {}): Attributes => ({ user: jane, verb, resourceRequest: true, apiGroup: '', resource, namespace: 'default', ...extra });
const path = (verb: string, p: string): Attributes => ({ user: jane, verb, resourceRequest: false, path: p });

test('a rule matches verbs, groups, resources, subresources, names and * as Kubernetes does', (t) => {
  const rule: PolicyRule = { verbs: ['get', 'list'], apiGroups: ['', 'apps'], resources: ['pods', 'deployments/scale'] };
  t.true(ruleAllows(res('get', 'pods'), rule));
  t.true(ruleAllows(res('list', 'deployments', { apiGroup: 'apps', subresource: 'scale' }), rule));
  t.false(ruleAllows(res('get', 'deployments', { apiGroup: 'apps' }), rule), 'deployments/scale does not grant deployments');
  t.false(ruleAllows(res('get', 'pods', { subresource: 'log' }), rule), 'pods does not grant pods/log');
  t.false(ruleAllows(res('delete', 'pods'), rule));
  t.false(ruleAllows(res('get', 'pods', { apiGroup: 'batch' }), rule));
  t.true(ruleAllows(res('get', 'pods', { subresource: 'status' }), { verbs: ['get'], apiGroups: [''], resources: ['*/status'] }));
  t.false(ruleAllows(res('get', 'pods', { subresource: 'log' }), { verbs: ['get'], apiGroups: [''], resources: ['*/status'] }));
  t.true(ruleAllows(res('anything', 'widgets', { apiGroup: 'example.com', subresource: 'x' }), { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }));
  const named: PolicyRule = { verbs: ['get', 'update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'] };
  t.true(ruleAllows(res('get', 'configmaps', { name: 'app-config' }), named));
  t.false(ruleAllows(res('get', 'configmaps', { name: 'other' }), named));
  t.false(ruleAllows(res('list', 'configmaps'), { ...named, verbs: ['list'] }), 'a list names no object, so resourceNames never allow it');
});

test('non-resource URLs match exactly, by a trailing *, or all', (t) => {
  const rule: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
  t.true(ruleAllows(path('get', '/healthz'), rule));
  t.false(ruleAllows(path('get', '/healthz/etcd'), rule));
  t.true(ruleAllows(path('get', '/apis/apps/v1'), rule));
  t.true(ruleAllows(path('get', '/apis/'), rule));
  t.false(ruleAllows(path('post', '/healthz'), rule));
  t.false(ruleAllows(path('get', '/metrics'), rule));
  t.true(ruleAllows(path('delete', '/anything'), { verbs: ['*'], nonResourceURLs: ['*'] }));
  t.false(ruleAllows(res('get', 'pods'), rule), 'a non-resource rule never grants resources');
  t.false(ruleAllows(path('get', '/healthz'), { verbs: ['get'], apiGroups: ['*'], resources: ['*'] }), 'a resource rule never grants paths');
});

/** A source over plain lists, as the informer cache is over its indexes. */
function source(roles: (RoleLike & { metadata: { labels?: Record<string, string> } })[], bindings: BindingLike[]): RbacSource {
  return {
    clusterRoleBindings: () => bindings.filter((b) => !b.metadata.namespace),
    roleBindings: (ns) => bindings.filter((b) => b.metadata.namespace === ns),
    role: (ns, name) => roles.find((r) => r.metadata.namespace === ns && r.metadata.name === name),
    clusterRole: (name) => roles.find((r) => !r.metadata.namespace && r.metadata.name === name),
  };
}

const podReader = { metadata: { name: 'pod-reader', namespace: 'team' }, rules: [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }] };
const secretReader = { metadata: { name: 'secret-reader' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }] };
const cluster = source([podReader, secretReader], [
  { metadata: { name: 'read-pods', namespace: 'team' }, subjects: [{ kind: 'ServiceAccount', name: 'builder' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' } },
  { metadata: { name: 'devs-secrets', namespace: 'team' }, subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'secret-reader' } },
  { metadata: { name: 'broken', namespace: 'team' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'jane' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'gone' } },
  { metadata: { name: 'ops-secrets' }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'ops' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'secret-reader' } },
]);

test('bindings grant a role\'s rules to users, groups and service accounts, in their namespace only', (t) => {
  const sa = serviceAccountUser('team', 'builder');
  t.deepEqual(authorize(cluster, { ...res('list', 'pods', { namespace: 'team' }), user: sa }), { allowed: true, reason: 'RBAC: allowed by RoleBinding "read-pods/team" of Role "pod-reader" to ServiceAccount "builder/team"' });
  t.false(authorize(cluster, { ...res('list', 'pods', { namespace: 'other' }), user: sa }).allowed, 'a RoleBinding grants nothing in another namespace');
  t.false(authorize(cluster, { ...res('list', 'pods', { namespace: 'team' }), user: serviceAccountUser('other', 'builder') }).allowed, 'a ServiceAccount subject without namespace is the binding\'s namespace');
  t.true(authorize(cluster, res('get', 'secrets', { namespace: 'team' })).allowed, 'by group');
  t.true(authorize(cluster, { ...res('get', 'secrets', { namespace: 'anywhere' }), user: { username: 'ops', groups: [] } }).allowed, 'a ClusterRoleBinding grants in every namespace');
  t.true(authorize(cluster, { ...res('get', 'secrets', { namespace: '' }), user: { username: 'ops', groups: [] } }).allowed, 'and cluster-wide');
  t.false(authorize(cluster, res('get', 'secrets', { namespace: '' })).allowed, 'a RoleBinding grants nothing cluster-wide');
});

test('a refusal carries the errors met resolving the user\'s roles; system:masters may do anything', (t) => {
  t.deepEqual(authorize(cluster, res('delete', 'pods', { namespace: 'team' })), { allowed: false, reason: 'RBAC: role.rbac.authorization.k8s.io "gone" not found' });
  t.deepEqual(authorize(cluster, res('delete', 'pods', { namespace: 'default' })), { allowed: false, reason: '' });
  t.deepEqual(authorize(cluster, { ...res('delete', 'nodes', { namespace: '' }), user: ADMIN }), { allowed: true, reason: '' });
});

test('rulesFor lists cluster-wide rules, then the namespace\'s', (t) => {
  const { rules, errors } = rulesFor(cluster, jane, 'team');
  t.deepEqual(rules, secretReader.rules);
  t.deepEqual(errors, ['role.rbac.authorization.k8s.io "gone" not found']);
  t.deepEqual(rulesFor(cluster, { username: 'ops', groups: [] }, '').rules, secretReader.rules);
});

test('covers: rules are broken down to one verb, group, resource and name, each covered by some owned rule', (t) => {
  const owned: PolicyRule[] = [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', '*/status'] },
    { verbs: ['*'], apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'] },
    { verbs: ['get'], nonResourceURLs: ['/apis/*'] },
  ];
  t.true(covers(owned, [{ verbs: ['get'], apiGroups: [''], resources: ['pods', 'pods/status', 'services/status'] }]).covered);
  t.true(covers(owned, [{ verbs: ['delete'], apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'] }]).covered);
  t.false(covers(owned, [{ verbs: ['delete'], apiGroups: ['apps'], resources: ['deployments'] }]).covered, 'a named grant does not cover every name');
  t.true(covers(owned, [{ verbs: ['get'], nonResourceURLs: ['/apis/apps'] }]).covered);
  t.deepEqual(covers(owned, [{ verbs: ['get', 'delete', 'list'], apiGroups: [''], resources: ['pods', 'secrets'] }]).missing, [
    { verbs: ['delete'], apiGroups: [''], resources: ['pods'] },
    { verbs: ['get'], apiGroups: [''], resources: ['secrets'] },
    { verbs: ['delete'], apiGroups: [''], resources: ['secrets'] },
    { verbs: ['list'], apiGroups: [''], resources: ['secrets'] },
  ]);
  t.true(covers([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }], [{ verbs: ['escalate'], apiGroups: ['x'], resources: ['y/z'] }, { verbs: ['get'], nonResourceURLs: ['/metrics'] }]).covered);
});

test('escalation errors are worded, compacted and sorted as ConfirmNoEscalation\'s', (t) => {
  const missing = covers([], [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets', 'pods'] }, { verbs: ['get'], nonResourceURLs: ['/metrics'] }]).missing;
  t.deepEqual(compactRules(missing).map(compactString), [
    '{NonResourceURLs:["/metrics"], Verbs:["get"]}',
    '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
    '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}',
  ]);
  t.is(escalationError(jane, { rules: [], errors: [] }, [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets', 'pods'] }]),
    'user "jane" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}\n{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}');
  t.is(escalationError(jane, { rules: [{ verbs: ['*'], apiGroups: [''], resources: ['*'] }], errors: [] }, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]), undefined);
  t.regex(escalationError(jane, { rules: [], errors: ['role.rbac.authorization.k8s.io "gone" not found'] }, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])!, /; resolution errors: \[role.rbac.authorization.k8s.io "gone" not found\]$/);
});

test('aggregation gathers the rules of the roles each selector picks, in name order, each rule once, never the role itself', (t) => {
  const view = { metadata: { name: 'view', labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } }, rules: [] };
  const a = { metadata: { name: 'b-extra', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [{ verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] }] };
  const b = { metadata: { name: 'a-base', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] }] };
  const unrelated = { metadata: { name: 'c', labels: {} }, rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] };
  const selector = { matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } };
  t.deepEqual(aggregateRules('view', [(labels) => selectorMatches(selector, labels)], [view, a, b, unrelated]), [
    { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
    { verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] },
  ]);
});

test('the default policy: cluster-admin for system:masters, discovery and self-reviews for every user, admin/edit/view aggregated', (t) => {
  const names = DEFAULT_CLUSTER_ROLES.map((r) => r.metadata.name);
  for (const name of ['cluster-admin', 'admin', 'edit', 'view', 'system:basic-user', 'system:discovery', 'system:public-info-viewer']) t.true(names.includes(name), name);
  for (const o of [...DEFAULT_CLUSTER_ROLES, ...DEFAULT_CLUSTER_ROLE_BINDINGS]) {
    t.is(o.metadata.labels!['kubernetes.io/bootstrapping'], 'rbac-defaults');
    t.is(o.metadata.annotations!['rbac.authorization.kubernetes.io/autoupdate'], 'true');
  }
  // The controller's passes until nothing changes: view into edit, edit into admin.
  let roles = DEFAULT_CLUSTER_ROLES;
  for (let pass = 0; pass < 3; pass++) {
    const before = roles;
    roles = before.map((r) => ({ ...r, rules: r.aggregationRule ? aggregateRules(r.metadata.name!, r.aggregationRule.clusterRoleSelectors.map((s: any) => (l: Record<string, string>) => selectorMatches(s, l)), before as any) : r.rules }));
  }
  const defaults = source(roles as any, DEFAULT_CLUSTER_ROLE_BINDINGS as any);
  const anyone: UserInfo = { username: 'x', groups: ['system:authenticated'] };
  t.true(authorize(defaults, { user: anyone, verb: 'get', resourceRequest: false, path: '/apis/apps/v1' }).allowed);
  t.true(authorize(defaults, { user: anyone, verb: 'create', resourceRequest: true, apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }).allowed);
  t.false(authorize(defaults, { user: anyone, verb: 'list', resourceRequest: true, apiGroup: '', resource: 'pods', namespace: 'default' }).allowed);
  t.true(authorize(defaults, { user: { username: 'anonymous', groups: ['system:unauthenticated'] }, verb: 'get', resourceRequest: false, path: '/healthz' }).allowed);
  t.false(authorize(defaults, { user: { username: 'anonymous', groups: ['system:unauthenticated'] }, verb: 'get', resourceRequest: false, path: '/api' }).allowed);
  const edit = roles.find((r) => r.metadata.name === 'edit')!.rules;
  const admin = roles.find((r) => r.metadata.name === 'admin')!.rules;
  const view = roles.find((r) => r.metadata.name === 'view')!.rules;
  t.true(covers(edit, view).covered, 'edit holds everything view does');
  t.true(covers(admin, edit).covered, 'admin holds everything edit does');
  t.false(covers(view, [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]).covered, 'view reads no secrets');
  t.false(covers(edit, [{ verbs: ['create'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'] }]).covered, 'edit writes no roles');
  t.false(covers(admin, [{ verbs: ['delete'], apiGroups: [''], resources: ['namespaces'] }]).covered, 'admin deletes no namespaces');
});

test('reconciling a default role adds back what it lacks and keeps what was added; autoupdate=false is left alone', (t) => {
  const expected = DEFAULT_CLUSTER_ROLES.find((r) => r.metadata.name === 'system:basic-user')!;
  const trimmed = { ...structuredClone(expected), metadata: { ...expected.metadata, labels: { mine: 'x' }, annotations: {} }, rules: [{ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] }, { verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }] };
  const plan = reconcileClusterRole(trimmed, expected);
  t.is(plan.action, 'update');
  const next = (plan as { object: any }).object;
  t.true(covers(next.rules, expected.rules).covered);
  t.deepEqual(next.rules[1], { verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }, 'an added permission stays');
  t.is(next.metadata.labels.mine, 'x');
  t.is(next.metadata.labels['kubernetes.io/bootstrapping'], 'rbac-defaults');
  t.deepEqual(reconcileClusterRole(next, expected), { action: 'none' }, 'idempotent');
  t.deepEqual(reconcileClusterRole({ ...trimmed, metadata: { ...trimmed.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } } }, expected), { action: 'none' });
  const view = DEFAULT_CLUSTER_ROLES.find((r) => r.metadata.name === 'view')!;
  t.deepEqual(reconcileClusterRole({ ...structuredClone(view), rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] }, view), { action: 'none' }, 'an aggregated role\'s rules are the controller\'s');
  const binding = DEFAULT_CLUSTER_ROLE_BINDINGS[0];
  t.is(reconcileClusterRoleBinding({ ...structuredClone(binding), subjects: [] }, binding).action, 'update');
  t.is(reconcileClusterRoleBinding({ ...structuredClone(binding), roleRef: { ...binding.roleRef, name: 'view' } }, binding).action, 'recreate');
  t.deepEqual(reconcileClusterRoleBinding(structuredClone(binding), binding), { action: 'none' });
});

test('role and binding validation and defaults, as Kubernetes\' rbac validation and v1 defaults', async (t) => {
  const { validateObject, applyDefaults } = await import('../../shared/registry/admission.ts');
  const messages = (kind: string, obj: object) => validateObject(kind, obj as any).causes.map((c) => `${c.field}: ${c.message}`);
  t.deepEqual(messages('ClusterRole', { metadata: { name: 'system:a.b_c' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/x'] }] }), [], 'names are path segments: colons are fine');
  t.deepEqual(messages('Role', { metadata: { name: 'a/b' }, rules: [] }), ['metadata.name: Invalid value: "a/b": may not contain \'/\'']);
  t.deepEqual(messages('Role', { metadata: { name: '..' } }), ['metadata.name: Invalid value: "..": may not be \'..\'']);
  t.deepEqual(messages('ClusterRole', { metadata: { name: 'r' }, rules: [{ verbs: ['get'] }, { verbs: ['get'], apiGroups: [''], resources: ['pods', 'secrets'], resourceNames: ['x'] }, { verbs: ['get'], resources: ['pods'], nonResourceURLs: ['/x'] }] }), [
    'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
    'rules[0].resources: Required value: resource rules must supply at least one resource',
    'rules[1].resourceNames: Required value: resource names cannot apply to multiple resources',
    'rules[2].nonResourceURLs: Invalid value: []string{"/x"}: rules cannot apply to both regular resources and non-resource URLs',
  ]);
  t.deepEqual(messages('ClusterRole', { metadata: { name: 'r' }, aggregationRule: {} }), ['aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil']);
  const binding: any = { metadata: { name: 'b', namespace: 'ns' }, roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'jane' }, { kind: 'Group', name: 'devs' }, { kind: 'ServiceAccount', name: 'sa' }] };
  applyDefaults('RoleBinding', binding);
  t.deepEqual(binding.roleRef, { kind: 'Role', name: 'r', apiGroup: 'rbac.authorization.k8s.io' });
  t.deepEqual(binding.subjects.map((s: any) => s.apiGroup), ['rbac.authorization.k8s.io', 'rbac.authorization.k8s.io', undefined]);
  t.deepEqual(messages('RoleBinding', binding), []);
  t.deepEqual(messages('RoleBinding', { ...binding, subjects: [{ kind: 'ServiceAccount', name: 'Bad_Name', apiGroup: 'x' }, { kind: 'User', name: '', apiGroup: 'rbac.authorization.k8s.io' }] }), [
    'subjects[0].name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
    'subjects[0].apiGroup: Unsupported value: "x": supported values: ""',
    'subjects[1].name: Required value',
    'subjects[1].name: Invalid value: "": user name cannot be empty',
  ]);
  t.deepEqual(messages('RoleBinding', { metadata: { name: 'b' }, roleRef: { apiGroup: 'example.com', kind: 'Role', name: '' } }), [
    'roleRef.apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"',
    'roleRef.name: Required value',
  ]);
});
