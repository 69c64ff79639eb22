// RBAC end to end with the real kubectl: users and service accounts acted as through impersonation
// (`--as`, `--as-group`; the cluster's administrator may impersonate anyone), the 403s as kubectl
// prints them, `kubectl auth can-i [--list]`, roles and bindings made by `kubectl create` (sent as
// protobuf), the default roles and their aggregation, and escalation prevention. An API server and
// a controller manager (the aggregation controller) are enough: no pod has to run.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { Keys } from '../../shared/keys.ts';
import { Store } from '../../shared/store/store.ts';
import { createLogger } from '../../shared/log.ts';
import { DEFAULT_CLUSTER_ROLES, DEFAULT_CLUSTER_ROLE_BINDINGS, ensureRbacDefaults } from '../../services/api/authz/bootstrap-policy.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-rbac-'));
let cluster: Cluster;

const kubectl = kubectlRunner(() => ({ server: cluster.apiUrls[0], cacheDir: join(work, 'cache'), kubeconfig: join(work, 'none') }));
const { ok, fails } = kubectlAssertions(kubectl);

test.before(async () => {
  cluster = await startCluster({ schedulers: 0 });
  for (const ns of ['team', 'other', 'esc', 'agg']) {
    const created = await kubectl(['create', 'namespace', ns]);
    if (created.code !== 0) throw new Error(`kubectl create namespace ${ns}: ${created.stderr}`);
  }
});

test.after.always(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.serial('the default cluster roles and bindings exist, labelled and annotated as Kubernetes\' bootstrap policy', async (t) => {
  const roles = JSON.parse(await ok(t, 'get', 'clusterroles', '-l', 'kubernetes.io/bootstrapping=rbac-defaults', '-o', 'json')).items;
  const names = roles.map((r: any) => r.metadata.name);
  for (const name of ['cluster-admin', 'admin', 'edit', 'view', 'system:basic-user', 'system:discovery', 'system:public-info-viewer']) t.true(names.includes(name), name);
  for (const r of roles) t.is(r.metadata.annotations['rbac.authorization.kubernetes.io/autoupdate'], 'true');
  const binding = JSON.parse(await ok(t, 'get', 'clusterrolebinding', 'cluster-admin', '-o', 'json'));
  t.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' });
  t.deepEqual(binding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]);
  // view is aggregated from system:aggregate-to-view by the controller.
  await eventually(async () => JSON.parse((await kubectl(['get', 'clusterrole', 'view', '-o', 'json'])).stdout).rules?.some((r: any) => r.resources?.includes('pods')), { timeoutMs: 20_000, message: 'view aggregated', detail: cluster.dumpLogs });
  const table = await ok(t, 'get', 'clusterrolebinding', 'cluster-admin', '-o', 'wide');
  t.regex(table, /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\n/);
  t.regex(table, /\ncluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+system:masters\s*\n/);
  t.regex(await ok(t, 'get', 'clusterrole', 'view'), /^NAME\s+CREATED AT\nview\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
});

test.serial('a user with no binding is refused, worded exactly as Kubernetes; discovery and self-reviews stay open to every user', async (t) => {
  t.is(await fails(t, 'get', 'pods', '--as', 'jane'), 'Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"\n');
  t.is(await fails(t, 'get', 'nodes', 'n1', '--as', 'jane'), 'Error from server (Forbidden): nodes "n1" is forbidden: User "jane" cannot get resource "nodes" in API group "" at the cluster scope\n');
  t.is(await fails(t, 'get', '--raw', '/metrics', '--as', 'jane'), 'Error from server (Forbidden): forbidden: User "jane" cannot get path "/metrics"\n');
  const raw = await cluster.api.get('/api/v1/namespaces/default/pods', { 'Impersonate-User': 'jane' });
  t.is(raw.status, 403);
  t.deepEqual(raw.body, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
    message: 'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"',
    details: { kind: 'pods' },
  });
  t.regex(await ok(t, 'api-resources', '--as', 'jane'), /\nroles\s+rbac.authorization.k8s.io\/v1\s+true\s+Role\n/);
  t.is(await ok(t, 'get', '--raw', '/healthz', '--as', 'jane'), 'ok');
  t.is((await kubectl(['auth', 'can-i', 'create', 'pods', '--as', 'jane'])).stdout, 'no\n');
  t.is(await ok(t, 'auth', 'can-i', 'create', 'pods'), 'yes\n', 'the administrator may');
  t.is(await ok(t, 'auth', 'can-i', '--list', '--as', 'jane', '--as-group', 'devs'),
    await ok(t, 'auth', 'can-i', '--list', '--as', 'someone-else'), 'everyone holds the same basic rules');
  t.regex(await ok(t, 'auth', 'can-i', '--list', '--as', 'jane'), /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
});

test.serial('a ServiceAccount may list pods in its namespace once a RoleBinding made by kubectl create allows it, never another namespace\'s secrets', async (t) => {
  const sa = 'system:serviceaccount:team:builder';
  t.is(await fails(t, 'get', 'pods', '-n', 'team', '--as', sa), `Error from server (Forbidden): pods is forbidden: User "${sa}" cannot list resource "pods" in API group "" in the namespace "team"\n`);
  t.is((await kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'team', '--as', sa])).stdout, 'no\n');

  t.is(await ok(t, 'create', 'role', 'pod-reader', '-n', 'team', '--verb=get,list,watch', '--resource=pods,pods/log'), 'role.rbac.authorization.k8s.io/pod-reader created\n');
  t.is(await ok(t, 'create', 'rolebinding', 'builder-reads-pods', '-n', 'team', '--role=pod-reader', '--serviceaccount=team:builder'), 'rolebinding.rbac.authorization.k8s.io/builder-reads-pods created\n');
  const role = (await cluster.api.get('/apis/rbac.authorization.k8s.io/v1/namespaces/team/roles/pod-reader')).body;
  t.deepEqual(role.rules, [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'pods/log'] }]);
  const binding = (await cluster.api.get('/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings/builder-reads-pods')).body;
  t.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'builder', namespace: 'team' }]);
  t.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' });

  // The next request is decided on every binding written before it.
  t.is(await ok(t, 'get', 'pods', '-n', 'team', '--as', sa), '');
  t.is((await kubectl(['get', 'pods', '-n', 'team', '--as', sa])).stderr, 'No resources found in team namespace.\n');
  t.is(await ok(t, 'auth', 'can-i', 'list', 'pods', '-n', 'team', '--as', sa), 'yes\n');
  t.is((await kubectl(['auth', 'can-i', 'delete', 'pods', '-n', 'team', '--as', sa])).stdout, 'no\n');
  t.is((await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', 'other', '--as', sa])).stdout, 'no\n');
  t.is(await fails(t, 'get', 'secrets', '-n', 'other', '--as', sa), `Error from server (Forbidden): secrets is forbidden: User "${sa}" cannot list resource "secrets" in API group "" in the namespace "other"\n`);
  t.is(await fails(t, 'get', 'pods', '-n', 'other', '--as', sa), `Error from server (Forbidden): pods is forbidden: User "${sa}" cannot list resource "pods" in API group "" in the namespace "other"\n`);
  t.regex(await ok(t, 'auth', 'can-i', '--list', '-n', 'team', '--as', sa), /\npods\/log\s+\[\]\s+\[\]\s+\[get list watch\]\n/);
  t.regex(await ok(t, 'get', 'rolebinding', '-n', 'team', '-o', 'wide'), /\nbuilder-reads-pods\s+Role\/pod-reader\s+\S+\s+team\/builder\n/);

  // A SubjectAccessReview asks the same of another user.
  const review = await cluster.api.post('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
    spec: { user: sa, groups: ['system:serviceaccounts'], resourceAttributes: { namespace: 'team', verb: 'watch', resource: 'pods' } },
  });
  t.is(review.status, 201);
  t.deepEqual(review.body.status, { allowed: true, reason: 'RBAC: allowed by RoleBinding "builder-reads-pods/team" of Role "pod-reader" to ServiceAccount "builder/team"' });
  const local = await cluster.api.post('/apis/authorization.k8s.io/v1/namespaces/other/localsubjectaccessreviews', {
    spec: { user: sa, resourceAttributes: { namespace: 'team', verb: 'list', resource: 'pods' } },
  });
  t.is(local.status, 422);
  t.is(local.body.message, 'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: "team": must match metadata.namespace');

  // The ServiceAccount itself, with a token of its own rather than impersonated: whoami and can-i
  // answer for it alike.
  t.is(await ok(t, 'create', 'serviceaccount', 'builder', '-n', 'team'), 'serviceaccount/builder created\n');
  const token = (await ok(t, 'create', 'token', 'builder', '-n', 'team')).trim();
  const whoami = await ok(t, 'auth', 'whoami', '--token', token);
  t.regex(whoami, new RegExp(`^ATTRIBUTE\\s+VALUE\\nUsername\\s+${sa}\\n`));
  t.regex(whoami, /\nGroups\s+\[system:serviceaccounts system:serviceaccounts:team system:authenticated\]\n/);
  t.is(await ok(t, 'auth', 'can-i', 'list', 'pods', '-n', 'team', '--token', token), 'yes\n');
  t.is((await kubectl(['auth', 'can-i', 'list', 'secrets', '-n', 'other', '--token', token])).stdout, 'no\n');
  t.is(await fails(t, 'get', 'secrets', '-n', 'other', '--token', token), `Error from server (Forbidden): secrets is forbidden: User "${sa}" cannot list resource "secrets" in API group "" in the namespace "other"\n`);
});

test.serial('a ClusterRole labelled aggregate-to-view extends view, and so edit and admin', async (t) => {
  t.is(await ok(t, 'create', 'clusterrole', 'widget-viewer', '--verb=get,list', '--resource=configmaps', '--resource-name=widgets'), 'clusterrole.rbac.authorization.k8s.io/widget-viewer created\n');
  await ok(t, 'label', 'clusterrole', 'widget-viewer', 'rbac.authorization.k8s.io/aggregate-to-view=true');
  const has = (name: string) => async () => JSON.parse((await kubectl(['get', 'clusterrole', name, '-o', 'json'])).stdout).rules?.some((r: any) => r.resourceNames?.includes('widgets'));
  for (const name of ['view', 'edit', 'admin']) await eventually(has(name), { timeoutMs: 20_000, message: `${name} holds widget-viewer's rule`, detail: cluster.dumpLogs });
  t.is((await kubectl(['auth', 'can-i', 'get', 'configmaps/widgets', '-n', 'agg', '--as', 'viewer-user'])).stdout, 'no\n');
  await ok(t, 'create', 'rolebinding', 'viewers', '-n', 'agg', '--clusterrole=view', '--user=viewer-user');
  t.is(await ok(t, 'auth', 'can-i', 'get', 'configmaps/widgets', '-n', 'agg', '--as', 'viewer-user'), 'yes\n');
  // Taken away again when the label goes.
  await ok(t, 'label', 'clusterrole', 'widget-viewer', 'rbac.authorization.k8s.io/aggregate-to-view-');
  await eventually(async () => !(await has('view')()), { timeoutMs: 20_000, message: 'view without widget-viewer\'s rule' });
});

test.serial('escalation: a role or binding granting more than its writer holds is refused unless the writer may escalate or bind', async (t) => {
  await ok(t, 'create', 'rolebinding', 'jane-admin', '-n', 'esc', '--clusterrole=admin', '--user=jane');
  // admin may write roles and bindings in its namespace, within what admin holds.
  t.is(await ok(t, 'create', 'role', 'secrets', '-n', 'esc', '--verb=get', '--resource=secrets', '--as', 'jane'), 'role.rbac.authorization.k8s.io/secrets created\n');
  t.is(await ok(t, 'create', 'rolebinding', 'bob-secrets', '-n', 'esc', '--role=secrets', '--user=bob', '--as', 'jane'), 'rolebinding.rbac.authorization.k8s.io/bob-secrets created\n');
  t.is(await fails(t, 'create', 'role', 'nodes', '-n', 'esc', '--verb=get,list', '--resource=nodes,priorityclasses', '--as', 'jane'),
    'Error from server (Forbidden): roles.rbac.authorization.k8s.io "nodes" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
    + '{APIGroups:[""], Resources:["nodes"], Verbs:["get" "list"]}\n{APIGroups:["scheduling.k8s.io"], Resources:["priorityclasses"], Verbs:["get" "list"]}\n');
  t.regex(await fails(t, 'create', 'rolebinding', 'bob-root', '-n', 'esc', '--clusterrole=cluster-admin', '--user=bob', '--as', 'jane'),
    /^error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "bob-root" is forbidden: user "jane" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}\n\{NonResourceURLs:\["\*"\], Verbs:\["\*"\]\}\n$/);
  t.is((await cluster.api.get('/apis/rbac.authorization.k8s.io/v1/namespaces/esc/rolebindings/bob-root')).status, 404, 'nothing was stored');
  t.is(await fails(t, 'create', 'clusterrolebinding', 'jane-root', '--clusterrole=cluster-admin', '--user=jane', '--as', 'jane'),
    'error: failed to create clusterrolebinding: clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "jane" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope\n');

  // With `bind` on cluster-admin (and `escalate` on roles) in esc, jane may.
  await ok(t, 'create', 'role', 'binder', '-n', 'esc', '--verb=bind', '--resource=clusterroles', '--resource-name=cluster-admin');
  await ok(t, 'create', 'role', 'escalator', '-n', 'esc', '--verb=escalate', '--resource=roles');
  await ok(t, 'create', 'rolebinding', 'jane-binds', '-n', 'esc', '--role=binder', '--user=jane');
  await ok(t, 'create', 'rolebinding', 'jane-escalates', '-n', 'esc', '--role=escalator', '--user=jane');
  t.is(await ok(t, 'create', 'rolebinding', 'bob-root', '-n', 'esc', '--clusterrole=cluster-admin', '--user=bob', '--as', 'jane'), 'rolebinding.rbac.authorization.k8s.io/bob-root created\n');
  t.is(await ok(t, 'create', 'role', 'nodes', '-n', 'esc', '--verb=get,list', '--resource=nodes', '--as', 'jane'), 'role.rbac.authorization.k8s.io/nodes created\n');

  // An aggregation rule gathers anything: only who holds everything may set one.
  await ok(t, 'create', 'clusterrolebinding', 'jane-writes-clusterroles', '--clusterrole=system:aggregate-to-admin', '--user=jane');
  await ok(t, 'create', 'clusterrole', 'clusterrole-writer', '--verb=create,update,get', '--resource=clusterroles.rbac.authorization.k8s.io');
  await ok(t, 'create', 'clusterrolebinding', 'jane-clusterroles', '--clusterrole=clusterrole-writer', '--user=jane');
  // What jane holds cluster-wide (roles, through system:aggregate-to-admin) she may grant in a ClusterRole; her admin in esc does not count there.
  t.is(await ok(t, 'create', 'clusterrole', 'jane-made', '--verb=get', '--resource=roles', '--as', 'jane'), 'clusterrole.rbac.authorization.k8s.io/jane-made created\n');
  t.regex(await fails(t, 'create', 'clusterrole', 'jane-pods', '--verb=get', '--resource=pods', '--as', 'jane'), /is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["pods"\], Verbs:\["get"\]\}\n$/);
  t.is(await fails(t, 'create', 'clusterrole', 'jane-gathers', '--aggregation-rule=team=x', '--as', 'jane'),
    'Error from server (Forbidden): clusterroles.rbac.authorization.k8s.io "jane-gathers" is forbidden: must have cluster-admin privileges to use the aggregationRule\n');
});

test.serial('a user with edit cannot delete the system namespaces nor the default roles; an administrator cannot delete a system namespace either', async (t) => {
  await ok(t, 'create', 'clusterrolebinding', 'edith-edits', '--clusterrole=edit', '--user=edith');
  t.is(await ok(t, 'auth', 'can-i', 'create', 'deployments', '-n', 'kube-system', '--as', 'edith'), 'yes\n');
  t.is(await fails(t, 'delete', 'namespace', 'kube-system', '--as', 'edith'), 'Error from server (Forbidden): namespaces "kube-system" is forbidden: User "edith" cannot delete resource "namespaces" in API group "" in the namespace "kube-system"\n');
  t.is(await fails(t, 'delete', 'clusterrole', 'view', '--as', 'edith'), 'Error from server (Forbidden): clusterroles.rbac.authorization.k8s.io "view" is forbidden: User "edith" cannot delete resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope\n');
  t.is(await fails(t, 'delete', 'clusterrolebinding', 'cluster-admin', '--as', 'edith'), 'Error from server (Forbidden): clusterrolebindings.rbac.authorization.k8s.io "cluster-admin" is forbidden: User "edith" cannot delete resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope\n');
  t.is(await fails(t, 'delete', 'namespace', 'kube-system'), 'Error from server (Forbidden): namespaces "kube-system" is forbidden: this namespace may not be deleted\n');
  t.is((await cluster.api.get('/apis/rbac.authorization.k8s.io/v1/clusterroles/view')).status, 200);
});

test.serial('roles and bindings are validated as Kubernetes validates them', async (t) => {
  const post = (path: string, body: object) => cluster.api.post(`/apis/rbac.authorization.k8s.io/v1${path}`, body);
  const role = await post('/namespaces/team/roles', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'bad' }, rules: [{ apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], nonResourceURLs: ['/healthz'] }] });
  t.is(role.status, 422);
  t.is(role.body.message, 'Role.rbac.authorization.k8s.io "bad" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs]');
  const binding = await post('/clusterrolebindings', { metadata: { name: 'bad' }, roleRef: { kind: 'Role', name: 'x' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }, { kind: 'Robot', name: 'r' }] });
  t.is(binding.status, 422);
  t.is(binding.body.message, 'ClusterRoleBinding.rbac.authorization.k8s.io "bad" is invalid: [roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole", subjects[0].namespace: Required value, subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"]');
  const changed = await cluster.api.patch('/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings/builder-reads-pods', { roleRef: { name: 'other' } });
  t.is(changed.status, 422);
  t.is(changed.body.message, 'RoleBinding.rbac.authorization.k8s.io "builder-reads-pods" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: cannot change roleRef');
});

test.serial('API servers starting together reconcile the defaults without a conflict reaching them: what was removed or trimmed comes back once', async (t) => {
  const connections = [0, 1, 2].map(() => new Redis(cluster.redis.url));
  const stores = connections.map((c) => new Store(c, new Keys(cluster.prefix)));
  const log = createLogger('test', 'silent');
  try {
    const [store] = stores;
    await store.delete('clusterroles', undefined, 'system:discovery');
    await store.delete('clusterrolebindings', undefined, 'system:basic-user');
    await store.guaranteedUpdate('clusterroles', undefined, 'system:basic-user', (r) => ({ ...r, rules: [r.rules[0]] }));
    await store.guaranteedUpdate('clusterrolebindings', undefined, 'system:discovery', (b) => ({ ...b, subjects: [] }));
    await Promise.all(stores.map((s) => ensureRbacDefaults(s, log)));
    for (const expected of DEFAULT_CLUSTER_ROLES.filter((r) => !r.aggregationRule)) {
      const role = await store.get('clusterroles', undefined, expected.metadata.name!);
      t.deepEqual(role?.rules, expected.rules, expected.metadata.name);
    }
    for (const expected of DEFAULT_CLUSTER_ROLE_BINDINGS) {
      const binding = await store.get('clusterrolebindings', undefined, expected.metadata.name!);
      t.deepEqual(binding?.subjects, expected.subjects, expected.metadata.name);
    }
    t.is((await store.list('clusterrolebindings')).items.filter((b) => b.metadata.name === 'system:basic-user').length, 1);
    // Decided on the restored defaults at once: every user may discover the API again.
    t.is(await ok(t, 'get', '--raw', '/api', '--as', 'jane').then((out) => JSON.parse(out).kind), 'APIVersions');
  } finally {
    for (const c of connections) c.disconnect();
  }
});

test.serial('RBAC rules name a custom resource by its group and plural, as for a built-in kind', async (t) => {
  const applied = await kubectl(['apply', '-f', '-'], { input: `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.toys.example.com}
spec:
  group: toys.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true}}}}
` });
  await ok(t, 'wait', '--for=condition=established', '--timeout=10s', 'crd/widgets.toys.example.com');
  await eventually(async () => (await kubectl(['apply', '-n', 'team', '-f', '-'], { input: 'apiVersion: toys.example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n' })).code === 0, { timeoutMs: 10_000, message: 'a Widget created' });
  const ann = 'ann';
  t.is(await fails(t, 'get', 'widgets', '-n', 'team', '--as', ann), `Error from server (Forbidden): widgets.toys.example.com is forbidden: User "${ann}" cannot list resource "widgets" in API group "toys.example.com" in the namespace "team"\n`);
  await ok(t, 'create', 'role', 'widget-reader', '-n', 'team', '--verb=get,list,watch', '--resource=widgets.toys.example.com');
  await ok(t, 'create', 'rolebinding', 'ann-reads-widgets', '-n', 'team', '--role=widget-reader', `--user=${ann}`);
  const listed = await eventually(async () => {
    const r = await kubectl(['get', 'widgets', '-n', 'team', '--as', ann, '-o', 'name']);
    return r.code === 0 ? r.stdout : undefined;
  }, { timeoutMs: 10_000, message: 'the binding takes effect' });
  t.is(listed, 'widget.toys.example.com/w1\n');
  t.is(await fails(t, 'delete', 'widget', 'w1', '-n', 'team', '--as', ann), `Error from server (Forbidden): widgets.toys.example.com "w1" is forbidden: User "${ann}" cannot delete resource "widgets" in API group "toys.example.com" in the namespace "team"\n`);
  t.is(await fails(t, 'get', 'widgets', '-n', 'other', '--as', ann), `Error from server (Forbidden): widgets.toys.example.com is forbidden: User "${ann}" cannot list resource "widgets" in API group "toys.example.com" in the namespace "other"\n`);
  t.is((await kubectl(['auth', 'can-i', 'patch', 'widgets.toys.example.com', '-n', 'team', '--as', ann])).stdout, 'no\n');
  t.is(await ok(t, 'auth', 'can-i', 'watch', 'widgets.toys.example.com', '-n', 'team', '--as', ann), 'yes\n');
  await ok(t, 'delete', 'crd', 'widgets.toys.example.com', '--wait=false');
});
