// The impersonation and authorization filters (services/api/authz/filters.ts) in an express app of
// their own, over an authorizer whose roles and bindings are plain lists: who may impersonate whom,
// the user an impersonation makes, and the 403s both filters answer.
import test from 'ava';
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Authorizer, type FreshSource } from '../../services/api/authz/authorizer.ts';
import { authorization, impersonation, splitServiceAccountUsername } from '../../services/api/authz/filters.ts';
import { toStatus } from '../../shared/errors.ts';
import { ADMIN, type UserInfo } from '../../shared/auth/user.ts';
import type { BindingLike, RoleLike } from '../../shared/auth/rbac.ts';

const roles: RoleLike[] = [
  { metadata: { name: 'impersonate-sa' }, rules: [{ verbs: ['impersonate'], apiGroups: [''], resources: ['serviceaccounts'] }, { verbs: ['impersonate'], apiGroups: [''], resources: ['users'], resourceNames: ['bob'] }] },
  { metadata: { name: 'reader' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }] },
  { metadata: { name: 'discovery' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*'] }] },
];
const bindings: BindingLike[] = [
  { metadata: { name: 'jane-impersonates', namespace: 'team' }, subjects: [{ kind: 'User', name: 'jane' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'impersonate-sa' } },
  { metadata: { name: 'jane-cluster' }, subjects: [{ kind: 'User', name: 'jane' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'impersonate-sa' } },
  { metadata: { name: 'sa-reads', namespace: 'team' }, subjects: [{ kind: 'ServiceAccount', name: 'builder' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' } },
  { metadata: { name: 'everyone-discovers' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }, { kind: 'Group', name: 'system:unauthenticated' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'discovery' } },
  { metadata: { name: 'bob-reads' }, subjects: [{ kind: 'User', name: 'bob' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' } },
];
const source: FreshSource = {
  clusterRoleBindings: () => bindings.filter((b) => !b.metadata.namespace),
  roleBindings: (ns) => bindings.filter((b) => b.metadata.namespace === ns),
  role: () => undefined,
  clusterRole: (name) => roles.find((r) => r.metadata.name === name),
  catchUp: async () => true,
};

let base = '';
test.before(async () => {
  const authorizer = new Authorizer(source);
  const app = express();
  // Authentication stands in: X-User names the requester (the administrator otherwise).
  app.use((req, res, next) => {
    const name = req.headers['x-user'];
    res.locals.user = name ? ({ username: String(name), groups: ['system:authenticated'] } satisfies UserInfo) : ADMIN;
    next();
  });
  app.use(impersonation(authorizer));
  app.use(authorization(authorizer));
  app.use((_req, res) => {
    res.json(res.locals.user);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = toStatus(err);
    res.status(status.code).json(status);
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.unref();
});

/** A GET with each header on a line of its own, repeated ones too (as Go's client, kubectl, sends them; fetch would join them). */
function call(path: string, headers: [string, string][] = []): Promise<{ status: number; body: any }> {
  const grouped: Record<string, string[]> = {};
  for (const [name, value] of headers) (grouped[name] ??= []).push(value);
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers: grouped }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the administrator impersonates anyone; the user made has the groups asked for, and system:authenticated', async (t) => {
  t.deepEqual((await call('/api', [['Impersonate-User', 'bob']])).body, { username: 'bob', groups: ['system:authenticated'] });
  t.deepEqual((await call('/api', [['Impersonate-User', 'bob'], ['Impersonate-Group', 'devs'], ['Impersonate-Group', 'ops'], ['Impersonate-Uid', 'u-1'], ['Impersonate-Extra-Scopes', 'a'], ['Impersonate-Extra-Scopes', 'b'], ['Impersonate-Extra-Reason%2FWhy', 'x']])).body,
    { username: 'bob', groups: ['devs', 'ops', 'system:authenticated'], uid: 'u-1', extra: { scopes: ['a', 'b'], 'reason/why': ['x'] } });
  t.deepEqual((await call('/api', [['Impersonate-User', 'system:serviceaccount:team:builder']])).body,
    { username: 'system:serviceaccount:team:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] });
  t.deepEqual((await call('/api', [['Impersonate-User', 'system:anonymous']])).body, { username: 'system:anonymous', groups: ['system:unauthenticated'] });
  t.deepEqual((await call('/api', [['Impersonate-User', 'x'], ['Impersonate-Group', 'system:unauthenticated']])).body, { username: 'x', groups: ['system:unauthenticated'] });
});

test('impersonation is authorized for the real user, verb impersonate, on users, groups and service accounts', async (t) => {
  const jane: [string, string] = ['X-User', 'jane'];
  const asSa = await call('/api/v1/namespaces/team/pods', [jane, ['Impersonate-User', 'system:serviceaccount:team:builder']]);
  t.is(asSa.status, 200, 'jane may impersonate service accounts, and the service account may list pods in team');
  t.deepEqual((await call('/api', [jane, ['Impersonate-User', 'bob']])).body.username, 'bob');
  const carol = await call('/api', [jane, ['Impersonate-User', 'carol']]);
  t.is(carol.status, 403);
  t.deepEqual(carol.body.message, 'users "carol" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope');
  t.deepEqual(carol.body.details, { name: 'carol', kind: 'users' });
  const group = await call('/api', [jane, ['Impersonate-User', 'bob'], ['Impersonate-Group', 'system:masters']]);
  t.is(group.status, 403);
  t.is(group.body.message, 'groups "system:masters" is forbidden: User "jane" cannot impersonate resource "groups" in API group "" at the cluster scope');
  const nobody = await call('/api', [['X-User', 'nobody'], ['Impersonate-User', 'system:serviceaccount:team:builder']]);
  t.is(nobody.body.message, 'serviceaccounts "builder" is forbidden: User "nobody" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team"');
  const extra = await call('/api', [jane, ['Impersonate-User', 'bob'], ['Impersonate-Extra-Scopes', 'all']]);
  t.is(extra.body.message, 'userextras.authentication.k8s.io "all" is forbidden: User "jane" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope');
});

test('groups, extras or a uid without a user is a bad request; the impersonated user is then authorized', async (t) => {
  const res = await call('/api', [['Impersonate-Group', 'devs']]);
  t.is(res.status, 400);
  t.regex(res.body.message, /without impersonating a user$/);
  const denied = await call('/api/v1/namespaces/other/pods', [['Impersonate-User', 'system:serviceaccount:team:builder']]);
  t.is(denied.status, 403);
  t.is(denied.body.message, 'pods is forbidden: User "system:serviceaccount:team:builder" cannot list resource "pods" in API group "" in the namespace "other"');
  t.is((await call('/api/v1/pods', [['Impersonate-User', 'bob']])).status, 200);
});

test('service account user names split as Kubernetes splits them', (t) => {
  t.deepEqual(splitServiceAccountUsername('system:serviceaccount:ns:sa'), { namespace: 'ns', name: 'sa' });
  t.is(splitServiceAccountUsername('system:serviceaccount:ns'), undefined);
  t.is(splitServiceAccountUsername('system:serviceaccount:ns:sa:x'), undefined);
  t.is(splitServiceAccountUsername('system:serviceaccount:NS:sa'), undefined);
  t.is(splitServiceAccountUsername('jane'), undefined);
});
