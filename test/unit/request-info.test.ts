// Request attributes as Kubernetes' RequestInfoFactory derives them, and its 403 wording.
import test from 'ava';
import { forbiddenStatus, requestAttributes } from '../../shared/auth/request-info.ts';

const attrs = (method: string, path: string, query: Record<string, unknown> = {}) => requestAttributes({ method, path, query });
const resource = (verb: string, resource: string, more: Record<string, string> = {}) => ({ verb, resourceRequest: true, apiGroup: '', apiVersion: 'v1', namespace: '', resource, subresource: '', name: '', ...more });

test('verbs of resource requests: get, list, watch, create, update, patch, delete, deletecollection', (t) => {
  t.deepEqual(attrs('GET', '/api/v1/namespaces/ns/pods'), resource('list', 'pods', { namespace: 'ns' }));
  t.deepEqual(attrs('GET', '/api/v1/namespaces/ns/pods', { watch: 'true' }), resource('watch', 'pods', { namespace: 'ns' }));
  t.deepEqual(attrs('GET', '/api/v1/namespaces/ns/pods', { watch: '0' }), resource('list', 'pods', { namespace: 'ns' }));
  t.deepEqual(attrs('GET', '/api/v1/watch/namespaces/ns/pods'), resource('watch', 'pods', { namespace: 'ns' }));
  t.deepEqual(attrs('GET', '/api/v1/watch/namespaces/ns/pods/p'), resource('watch', 'pods', { namespace: 'ns', name: 'p' }));
  t.deepEqual(attrs('GET', '/api/v1/namespaces/ns/pods', { fieldSelector: 'metadata.name=p', watch: '1' }), resource('watch', 'pods', { namespace: 'ns', name: 'p' }));
  t.deepEqual(attrs('GET', '/api/v1/namespaces/ns/pods/p'), resource('get', 'pods', { namespace: 'ns', name: 'p' }));
  t.deepEqual(attrs('HEAD', '/api/v1/namespaces/ns/pods/p'), resource('get', 'pods', { namespace: 'ns', name: 'p' }));
  t.deepEqual(attrs('POST', '/api/v1/namespaces/ns/pods'), resource('create', 'pods', { namespace: 'ns' }));
  t.deepEqual(attrs('PUT', '/api/v1/namespaces/ns/pods/p'), resource('update', 'pods', { namespace: 'ns', name: 'p' }));
  t.deepEqual(attrs('PATCH', '/api/v1/namespaces/ns/pods/p'), resource('patch', 'pods', { namespace: 'ns', name: 'p' }));
  t.deepEqual(attrs('DELETE', '/api/v1/namespaces/ns/pods/p'), resource('delete', 'pods', { namespace: 'ns', name: 'p' }));
  t.deepEqual(attrs('DELETE', '/api/v1/namespaces/ns/pods'), resource('deletecollection', 'pods', { namespace: 'ns' }));
  t.deepEqual(attrs('GET', '/api/v1/pods'), resource('list', 'pods'));
});

test('subresources, groups, cluster-scoped kinds and the namespaces resource', (t) => {
  t.deepEqual(attrs('GET', '/api/v1/namespaces/ns/pods/p/log'), resource('get', 'pods', { namespace: 'ns', name: 'p', subresource: 'log' }));
  // exec, attach and port-forward run something in the pod: `create`, whether a WebSocket GET or a SPDY POST.
  for (const sub of ['exec', 'attach', 'portforward']) {
    t.deepEqual(attrs('GET', `/api/v1/namespaces/ns/pods/p/${sub}`, { command: 'sh' }), resource('create', 'pods', { namespace: 'ns', name: 'p', subresource: sub }));
    t.deepEqual(attrs('POST', `/api/v1/namespaces/ns/pods/p/${sub}`), resource('create', 'pods', { namespace: 'ns', name: 'p', subresource: sub }));
  }
  t.deepEqual(attrs('POST', '/api/v1/namespaces/ns/pods/p/eviction'), resource('create', 'pods', { namespace: 'ns', name: 'p', subresource: 'eviction' }));
  t.deepEqual(attrs('PATCH', '/apis/apps/v1/namespaces/ns/deployments/web/scale'), resource('patch', 'deployments', { apiGroup: 'apps', namespace: 'ns', name: 'web', subresource: 'scale' }));
  t.deepEqual(attrs('POST', '/api/v1/namespaces/ns/serviceaccounts/sa/token'), resource('create', 'serviceaccounts', { namespace: 'ns', name: 'sa', subresource: 'token' }));
  t.deepEqual(attrs('GET', '/api/v1/nodes/n1'), resource('get', 'nodes', { name: 'n1' }));
  t.deepEqual(attrs('DELETE', '/api/v1/namespaces/kube-system'), resource('delete', 'namespaces', { namespace: 'kube-system', name: 'kube-system' }));
  t.deepEqual(attrs('PUT', '/api/v1/namespaces/x/finalize'), resource('update', 'namespaces', { namespace: 'x', name: 'x', subresource: 'finalize' }));
  t.deepEqual(attrs('GET', '/api/v1/namespaces'), resource('list', 'namespaces'));
  t.deepEqual(attrs('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles'), resource('create', 'clusterroles', { apiGroup: 'rbac.authorization.k8s.io' }));
  t.deepEqual(attrs('GET', '/apis/example.com/v1/namespaces/ns/widgets/w'), resource('get', 'widgets', { apiGroup: 'example.com', namespace: 'ns', name: 'w' }), 'unserved resources are authorized too');
  t.deepEqual(attrs('GET', '/api/v1/namespaces/ns/configmaps/a%3Ab'), resource('get', 'configmaps', { namespace: 'ns', name: 'a:b' }));
});

test('non-resource requests: discovery, health, anything else; the verb is the method', (t) => {
  for (const p of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/healthz', '/version', '/openapi/v3', '/foo/bar']) {
    t.deepEqual(attrs('GET', p), { verb: 'get', resourceRequest: false, path: p }, p);
  }
  t.deepEqual(attrs('POST', '/foo'), { verb: 'post', resourceRequest: false, path: '/foo' });
});

test('403s are worded as Kubernetes words them, with details {group, kind, name}', (t) => {
  const sa = { username: 'system:serviceaccount:ns:sa', groups: [] };
  t.deepEqual(forbiddenStatus(attrs('GET', '/api/v1/namespaces/ns/pods'), sa), {
    message: 'pods is forbidden: User "system:serviceaccount:ns:sa" cannot list resource "pods" in API group "" in the namespace "ns"',
    details: { kind: 'pods' },
  });
  const jane = { username: 'jane', groups: [] };
  t.deepEqual(forbiddenStatus(attrs('GET', '/api/v1/nodes/n1'), jane), {
    message: 'nodes "n1" is forbidden: User "jane" cannot get resource "nodes" in API group "" at the cluster scope',
    details: { name: 'n1', kind: 'nodes' },
  });
  t.deepEqual(forbiddenStatus(attrs('GET', '/apis/apps/v1/namespaces/ns/deployments/web/scale'), jane), {
    message: 'deployments.apps "web" is forbidden: User "jane" cannot get resource "deployments/scale" in API group "apps" in the namespace "ns"',
    details: { name: 'web', group: 'apps', kind: 'deployments' },
  });
  t.deepEqual(forbiddenStatus(attrs('GET', '/foo'), jane), { message: 'forbidden: User "jane" cannot get path "/foo"', details: {} });
  t.is(forbiddenStatus(attrs('GET', '/api/v1/pods'), jane, 'RBAC: clusterrole.rbac.authorization.k8s.io "x" not found').message,
    'pods is forbidden: User "jane" cannot list resource "pods" in API group "" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "x" not found');
});
