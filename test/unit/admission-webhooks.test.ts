// Admission webhooks' pure parts: which writes a webhook's rules select, the order webhooks run in,
// and the refusal a denial becomes; and the dispatcher against an in-process transport.
import test from 'ava';
import { AdmissionWebhooks, callError, denial, hooksOf, resolveServiceEndpoint, rulesMatch, type WebhookTransport } from '../../shared/admission/webhooks.ts';
import { webhookConfigurationErrors } from '../../shared/registry/kinds/webhookconfiguration.ts';
import { resourceInfo } from '../../shared/registry/strategy.ts';

const pods = resourceInfo({ plural: 'pods', kind: 'Pod' });
const deployments = resourceInfo({ group: 'apps', plural: 'deployments', kind: 'Deployment' });
const nodes = resourceInfo({ plural: 'nodes', kind: 'Node', namespaced: false });

test('rules select by operation, group, version, resource (subresources apart) and scope', (t) => {
  const w = (rule: any) => ({ rules: [{ scope: '*', ...rule }] });
  t.true(rulesMatch(w({ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }), { resource: pods, operation: 'CREATE' }));
  t.false(rulesMatch(w({ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }), { resource: pods, operation: 'UPDATE' }));
  t.false(rulesMatch(w({ operations: ['*'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }), { resource: pods, subresource: 'status', operation: 'UPDATE' }));
  t.true(rulesMatch(w({ operations: ['*'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/status'] }), { resource: pods, subresource: 'status', operation: 'UPDATE' }));
  t.true(rulesMatch(w({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*/*'] }), { resource: pods, subresource: 'status', operation: 'UPDATE' }));
  t.true(rulesMatch(w({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'] }), { resource: deployments, operation: 'CREATE' }));
  t.false(rulesMatch(w({ operations: ['*'], apiGroups: [''], apiVersions: ['*'], resources: ['*'] }), { resource: deployments, operation: 'CREATE' }));
  t.false(rulesMatch(w({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], scope: 'Namespaced' }), { resource: nodes, operation: 'CREATE' }));
});

test('configurations run in name order; a denial is Kubernetes\' ToStatusErr', (t) => {
  const order = hooksOf([{ apiVersion: '', kind: '', metadata: { name: 'b' }, webhooks: [{ name: 'b1' }] }, { apiVersion: '', kind: '', metadata: { name: 'a' }, webhooks: [{ name: 'a1' }, { name: 'a2' }] }]);
  t.deepEqual(order.map((h) => h.webhook.name), ['a1', 'a2', 'b1']);
  const e = denial('x.example.com', { code: 200, message: 'no' });
  t.is(e.code, 400);
  t.is(e.message, 'admission webhook "x.example.com" denied the request: no');
  t.is(denial('x.example.com', undefined).message, 'admission webhook "x.example.com" denied the request without explanation');
});

test('the dispatcher: patches in order, reinvokes IfNeeded webhooks once, honours failurePolicy', async (t) => {
  const calls: string[] = [];
  const transport: WebhookTransport = async (target, body: any) => {
    const path = target.path.split('?')[0];
    calls.push(path);
    if (path === '/down') throw new Error('connect ECONNREFUSED');
    const value = path.slice(1);
    const patch = [{ op: 'add', path: `/metadata/labels/${value}`, value: 'set' }];
    return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: body.request.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') } };
  };
  const hooks = new AdmissionWebhooks({ namespaceLabels: async () => ({}), serviceBackend: async () => { throw new Error('no Services here'); } }, transport);
  const hook = (name: string, path: string, extra: any = {}) => ({ name, clientConfig: { url: `https://127.0.0.1:1${path}` }, rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['*'], scope: '*' }], failurePolicy: 'Fail', ...extra });
  hooks.setConfigurations([
    { apiVersion: '', kind: '', metadata: { name: 'a' }, webhooks: [hook('a.example.com', '/first', { reinvocationPolicy: 'IfNeeded' })] },
    { apiVersion: '', kind: '', metadata: { name: 'b' }, webhooks: [hook('b.example.com', '/second'), hook('c.example.com', '/down', { failurePolicy: 'Ignore' })] },
  ], []);
  const out = await hooks.mutate({ resource: pods, operation: 'CREATE', name: 'p', namespace: 'default', dryRun: false }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: {} } });
  t.deepEqual(out.metadata.labels, { first: 'set', second: 'set' });
  t.deepEqual(calls, ['/first', '/second', '/down', '/first']);
  hooks.setConfigurations([{ apiVersion: '', kind: '', metadata: { name: 'z' }, webhooks: [hook('z.example.com', '/down')] }], []);
  await t.throwsAsync(hooks.mutate({ resource: pods, operation: 'CREATE', name: 'p', namespace: 'default', dryRun: false }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }), { message: 'Internal error occurred: failed calling webhook "z.example.com": failed to call webhook: Post "https://127.0.0.1:1/down?timeout=10s": connect ECONNREFUSED' });
});

test('a webhook configuration needs exactly one of url and service, v1 reviews and known side effects', (t) => {
  const errs = webhookConfigurationErrors({ apiVersion: '', kind: '', metadata: {}, webhooks: [{ name: 'a.b.c', clientConfig: {}, failurePolicy: 'Fail', matchPolicy: 'Equivalent', timeoutSeconds: 10, admissionReviewVersions: ['v1'], sideEffects: 'None' }] }, false);
  t.deepEqual(errs.map((c) => `${c.field}: ${c.message}`), ['webhooks[0].clientConfig: Required value: exactly one of url or service is required']);
});

test('a delete: mutating webhooks that select DELETE may refuse it, then validating ones run; the review carries the user and the object going as oldObject', async (t) => {
  const reviews: any[] = [];
  const transport: WebhookTransport = async (target, body: any) => {
    const path = target.path.split('?')[0];
    reviews.push({ path, request: body.request });
    const allowed = path !== '/keep';
    return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: body.request.uid, allowed, ...(allowed ? {} : { status: { code: 403, message: 'this one stays' } }) } };
  };
  const hooks = new AdmissionWebhooks({ namespaceLabels: async () => ({}), serviceBackend: async () => { throw new Error('no Services here'); } }, transport);
  const hook = (name: string, path: string, operations: string[]) => ({ name, clientConfig: { url: `https://127.0.0.1:1${path}` }, rules: [{ operations, apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: '*' }], failurePolicy: 'Fail', objectSelector: { matchLabels: { app: 'web' } } });
  hooks.setConfigurations(
    [{ apiVersion: '', kind: '', metadata: { name: 'm' }, webhooks: [hook('m.example.com', '/mutate', ['DELETE']), hook('create-only.example.com', '/create', ['CREATE'])] }],
    [{ apiVersion: '', kind: '', metadata: { name: 'v' }, webhooks: [hook('v.example.com', '/validate', ['DELETE'])] }],
  );
  const going = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', labels: { app: 'web' } } };
  const user = { username: 'jane', groups: ['devs', 'system:authenticated'] };
  await hooks.admitDelete({ resource: pods, operation: 'DELETE', name: 'p', namespace: 'default', oldObject: going, dryRun: false, user });
  t.deepEqual(reviews.map((r) => r.path), ['/mutate', '/validate'], 'the CREATE-only webhook is not called');
  for (const { request } of reviews) {
    t.is(request.operation, 'DELETE');
    t.is(request.object, null);
    t.deepEqual(request.oldObject, going, 'the object selector matched the object going');
    t.deepEqual(request.userInfo, user);
    t.is(request.options.kind, 'DeleteOptions');
  }
  reviews.length = 0;
  hooks.setConfigurations([{ apiVersion: '', kind: '', metadata: { name: 'm' }, webhooks: [hook('keep.example.com', '/keep', ['DELETE'])] }], [{ apiVersion: '', kind: '', metadata: { name: 'v' }, webhooks: [hook('v.example.com', '/validate', ['DELETE'])] }]);
  const refused = await t.throwsAsync(hooks.admitDelete({ resource: pods, operation: 'DELETE', name: 'p', namespace: 'default', oldObject: going, dryRun: false, user }));
  t.is((refused as any).code, 403);
  t.is(refused!.message, 'admission webhook "keep.example.com" denied the request: this one stays');
  t.deepEqual(reviews.map((r) => r.path), ['/keep'], 'a mutating refusal ends the delete before the validating webhooks');
});

test('a Service webhook goes to a ready endpoint of the Service port, its number from the Endpoints', (t) => {
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'policy' }, spec: { ports: [{ name: 'metrics', port: 9090, targetPort: 9090 }, { name: 'https', port: 443, targetPort: 'webhook' }] } };
  const address = (ip: string) => ({ ip, targetRef: { kind: 'Pod', name: ip } });
  const endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'policy' },
    subsets: [
      { notReadyAddresses: [address('10.0.0.9')], ports: [{ name: 'https', port: 8443 }, { name: 'metrics', port: 9090 }] },
      { addresses: [address('10.0.0.4'), address('10.0.0.5')], ports: [{ name: 'metrics', port: 9090 }, { name: 'https', port: 8443 }] },
    ],
  };
  t.deepEqual(resolveServiceEndpoint('policy', service, endpoints, 443, () => 0), { host: '10.0.0.4', port: 8443 });
  t.deepEqual(resolveServiceEndpoint('policy', service, endpoints, 443, (n) => n - 1), { host: '10.0.0.5', port: 8443 });
  // An unnamed single port matches the Endpoints' unnamed port.
  const single = { ...service, spec: { ports: [{ port: 443, targetPort: 8443 }] } };
  t.deepEqual(resolveServiceEndpoint('policy', single, { ...endpoints, subsets: [{ addresses: [address('10.0.0.7')], ports: [{ port: 8443 }] }] }, 443), { host: '10.0.0.7', port: 8443 });
  // Kubernetes' words when there is nowhere to go.
  const refusal = (fn: () => unknown) => t.throws(fn)?.message;
  t.is(refusal(() => resolveServiceEndpoint('policy', null, endpoints, 443)), 'service "policy" not found');
  t.is(refusal(() => resolveServiceEndpoint('policy', service, endpoints, 8443)), 'no service port 8443 found for service "policy"');
  t.is(refusal(() => resolveServiceEndpoint('policy', service, null, 443)), 'endpoints "policy" not found');
  t.is(refusal(() => resolveServiceEndpoint('policy', service, { ...endpoints, subsets: [] }, 443)), 'no endpoints available for service "policy"');
  t.is(refusal(() => resolveServiceEndpoint('policy', service, { ...endpoints, subsets: [endpoints.subsets[0]] }, 443)), 'no endpoints available for service "policy"');
});

test('a failed call reads as Go\'s client words it', (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.4:8443'), { code: 'ECONNREFUSED', address: '10.0.0.4', port: 8443 });
  t.is(callError('https://policy.webhooks.svc:443/validate?timeout=10s', refused).message, 'Post "https://policy.webhooks.svc:443/validate?timeout=10s": dial tcp 10.0.0.4:8443: connect: connection refused');
  t.is(callError('https://x.example.com/v?timeout=5s', new Error('context deadline exceeded')).message, 'Post "https://x.example.com/v?timeout=5s": context deadline exceeded');
});
