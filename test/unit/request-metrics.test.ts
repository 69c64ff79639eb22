// The labels of apiserver_request_total / apiserver_request_duration_seconds, as Kubernetes'
// apiserver gives each kind of request: the verb told apart (LIST from GET, WATCH, APPLY,
// CONNECT), the route's group, version, resource, subresource and scope, and few values for paths
// that name nothing.
import test from 'ava';
import { OTHER_PATH, requestMetricLabels, type MetricRequest } from '../../services/api/request-metrics.ts';

function request(method: string, url: string, contentType?: string): MetricRequest {
  const [path, search = ''] = url.split('?');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(search)) {
    const prev = query[k];
    query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  return { method, path, query, headers: contentType ? { 'content-type': contentType } : {} } as MetricRequest;
}

/** The labels but dry_run and component, which most cases leave at "" and "apiserver". */
function labels(method: string, url: string, contentType?: string) {
  const { dry_run, component, ...rest } = requestMetricLabels(request(method, url, contentType));
  return { ...rest, ...(dry_run ? { dry_run } : {}), ...(component !== 'apiserver' ? { component } : {}) };
}

const pods = { group: '', version: 'v1', resource: 'pods' };

test('reads: GET of one object, LIST of a namespace, of all namespaces, of a cluster-scoped kind', (t) => {
  t.deepEqual(labels('GET', '/api/v1/namespaces/default/pods/web'), { verb: 'GET', ...pods, subresource: '', scope: 'resource' });
  t.deepEqual(labels('GET', '/api/v1/namespaces/default/pods'), { verb: 'LIST', ...pods, subresource: '', scope: 'namespace' });
  t.deepEqual(labels('GET', '/api/v1/pods?limit=500'), { verb: 'LIST', ...pods, subresource: '', scope: 'cluster' });
  t.deepEqual(labels('GET', '/api/v1/nodes/n1'), { verb: 'GET', group: '', version: 'v1', resource: 'nodes', subresource: '', scope: 'resource' });
  t.deepEqual(labels('GET', '/api/v1/nodes'), { verb: 'LIST', group: '', version: 'v1', resource: 'nodes', subresource: '', scope: 'cluster' });
  t.deepEqual(labels('GET', '/apis/apps/v1/namespaces/ns/deployments'), { verb: 'LIST', group: 'apps', version: 'v1', resource: 'deployments', subresource: '', scope: 'namespace' });
  // A Namespace is itself a named object of a cluster-scoped kind.
  t.deepEqual(labels('GET', '/api/v1/namespaces/default'), { verb: 'GET', group: '', version: 'v1', resource: 'namespaces', subresource: '', scope: 'resource' });
  t.deepEqual(labels('HEAD', '/api/v1/namespaces/default/pods'), { verb: 'LIST', ...pods, subresource: '', scope: 'namespace' });
});

test('watches: the parameter as Kubernetes reads its first value, and the legacy watch paths', (t) => {
  t.is(labels('GET', '/api/v1/namespaces/default/pods?watch=true').verb, 'WATCH');
  t.is(labels('GET', '/api/v1/pods?watch=1&resourceVersion=5').verb, 'WATCH');
  t.is(labels('GET', '/api/v1/pods?watch').verb, 'WATCH');
  t.is(labels('GET', '/api/v1/pods?watch=false').verb, 'LIST');
  t.is(labels('GET', '/api/v1/pods?watch=0&watch=1').verb, 'LIST');
  t.deepEqual(labels('GET', '/api/v1/watch/namespaces/default/pods'), { verb: 'WATCH', ...pods, subresource: '', scope: 'namespace' });
  t.deepEqual(labels('GET', '/api/v1/watch/namespaces/default/pods/web'), { verb: 'WATCH', ...pods, subresource: '', scope: 'resource' });
});

test('writes: POST is a create of one object; PUT, PATCH, APPLY; DELETE of one object or a collection', (t) => {
  t.deepEqual(labels('POST', '/api/v1/namespaces/default/pods'), { verb: 'POST', ...pods, subresource: '', scope: 'resource' });
  t.deepEqual(labels('PUT', '/api/v1/namespaces/default/pods/web'), { verb: 'PUT', ...pods, subresource: '', scope: 'resource' });
  t.is(labels('PATCH', '/api/v1/namespaces/default/pods/web', 'application/strategic-merge-patch+json').verb, 'PATCH');
  t.is(labels('PATCH', '/api/v1/namespaces/default/pods/web', 'application/merge-patch+json').verb, 'PATCH');
  t.is(labels('PATCH', '/api/v1/namespaces/default/pods/web', 'application/apply-patch+yaml').verb, 'APPLY');
  t.is(labels('PATCH', '/api/v1/namespaces/default/pods/web', 'application/apply-patch+yaml; charset=utf-8').verb, 'APPLY');
  t.is(labels('PATCH', '/api/v1/namespaces/default/pods/web', 'text/nonsense').verb, 'PATCH');
  t.deepEqual(labels('DELETE', '/api/v1/namespaces/default/pods/web'), { verb: 'DELETE', ...pods, subresource: '', scope: 'resource' });
  // deletecollection is a DELETE of the collection: Kubernetes reports the method, scoped to it.
  t.deepEqual(labels('DELETE', '/api/v1/namespaces/default/pods'), { verb: 'DELETE', ...pods, subresource: '', scope: 'namespace' });
});

test('subresources: status and scale as their methods; log streams are CONNECT', (t) => {
  t.deepEqual(labels('PUT', '/api/v1/namespaces/default/pods/web/status'), { verb: 'PUT', ...pods, subresource: 'status', scope: 'resource' });
  t.deepEqual(labels('PATCH', '/apis/apps/v1/namespaces/ns/deployments/d/scale', 'application/merge-patch+json'), { verb: 'PATCH', group: 'apps', version: 'v1', resource: 'deployments', subresource: 'scale', scope: 'resource' });
  t.deepEqual(labels('GET', '/api/v1/namespaces/default/pods/web/log?follow=true'), { verb: 'CONNECT', ...pods, subresource: 'log', scope: 'resource' });
  t.deepEqual(labels('POST', '/api/v1/namespaces/default/pods/web/eviction'), { verb: 'POST', ...pods, subresource: 'eviction', scope: 'resource' });
  t.deepEqual(labels('PUT', '/api/v1/namespaces/ns1/finalize'), { verb: 'PUT', group: '', version: 'v1', resource: 'namespaces', subresource: 'finalize', scope: 'resource' });
});

test('dry_run: none, All, or invalid for anything the API refuses; component is apiserver', (t) => {
  const of = (url: string) => requestMetricLabels(request('POST', url));
  t.is(of('/api/v1/namespaces/default/pods').dry_run, '');
  t.is(of('/api/v1/namespaces/default/pods?dryRun=All').dry_run, 'All');
  t.is(of('/api/v1/namespaces/default/pods?dryRun=All&dryRun=All').dry_run, 'All');
  t.is(of('/api/v1/namespaces/default/pods?dryRun=Some').dry_run, 'invalid');
  t.is(of('/api/v1/namespaces/default/pods?dryRun=').dry_run, 'invalid');
  t.is(of('/api/v1/namespaces/default/pods').component, 'apiserver');
});

test('non-resource routes are labelled by their route, never by the raw path', (t) => {
  const none = { group: '', version: '', resource: '', scope: '' };
  for (const path of ['/healthz', '/livez', '/readyz', '/metrics', '/version', '/api', '/apis', '/openapi/v3']) {
    t.deepEqual(labels('GET', path), { verb: 'GET', ...none, subresource: path }, path);
  }
  t.deepEqual(labels('GET', '/api/'), { verb: 'GET', ...none, subresource: '/api' });
  t.deepEqual(labels('GET', '/api/v1'), { verb: 'GET', ...none, subresource: '/api/{version}' });
  t.deepEqual(labels('GET', '/apis/apps'), { verb: 'GET', ...none, subresource: '/apis/{group}' });
  t.deepEqual(labels('GET', '/apis/apps/v1'), { verb: 'GET', ...none, subresource: '/apis/{group}/{version}' });
  t.deepEqual(labels('GET', '/openapi/v3/apis/apps/v1?hash=abc'), { verb: 'GET', ...none, subresource: '/openapi/v3/{path}' });
});

test('bounded: paths that name nothing served fold into one value, unknown methods into "other"', (t) => {
  const folded = { verb: 'GET', group: '', version: '', resource: '', subresource: OTHER_PATH, scope: '' };
  for (const path of ['/', '/favicon.ico', '/api/v1/widgets', '/api/v1/namespaces/default/widgets/x', '/apis/apps/v1/widgets', '/api/v1/namespaces/default/pods/web/nosuch', '/api/v1/namespaces/%zz/pods', `/x/${'y'.repeat(100)}`]) {
    t.deepEqual(labels('GET', path), folded, path);
  }
  t.is(labels('PROPFIND', '/api/v1/namespaces/default/pods').verb, 'other');
  t.is(labels('OPTIONS', '/api/v1/pods').verb, 'other');
  t.is(labels('post', '/api/v1/namespaces/default/pods').verb, 'POST');
});
