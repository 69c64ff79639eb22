// The labels of a request in apiserver_request_total and apiserver_request_duration_seconds, as
// Kubernetes' apiserver gives them (k8s.io/apiserver pkg/endpoints/metrics: CanonicalVerb,
// CleanVerb, cleanDryRun, and the installer's per-route scope), so the usual dashboards and SLO
// rules read Wharf's /metrics unchanged. Every label takes few values: paths that name nothing
// served fold into one.
import type { Request } from 'express';
import { METRICS_GROUP, METRICS_VERSION, parseMetricsPath } from './metrics-api.ts';
import { parseResourcePathQuietly, parseBool, patchTypeOf, queryString, queryValues, type ResourcePath } from './request.ts';

export interface RequestMetricLabels {
  verb: string;
  dry_run: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  scope: string;
  component: string;
}

/** What the labels are read from: the request line and one header. */
export type MetricRequest = Pick<Request, 'method' | 'path' | 'query' | 'headers'>;

export const API_SERVER_COMPONENT = 'apiserver';

/** Where a path that names no route Wharf serves is counted (as its subresource). */
export const OTHER_PATH = 'other';

/** Kubernetes' validRequestMethods: any other verb is counted as "other". */
const REPORTED_VERBS = new Set(['APPLY', 'CONNECT', 'CREATE', 'DELETE', 'DELETECOLLECTION', 'GET', 'LIST', 'PATCH', 'POST', 'PROXY', 'PUT', 'UPDATE', 'WATCH', 'WATCHLIST']);
const OTHER_VERB = 'other';

/** Subresources that stream (validConnectRequests): their requests are CONNECT whatever the method. */
const CONNECT_SUBRESOURCES = new Set(['log', 'exec', 'portforward', 'attach', 'proxy']);

/** The non-resource paths served, each its own route. */
const NON_RESOURCE_PATHS = new Set(['/healthz', '/livez', '/readyz', '/metrics', '/version', '/api', '/apis', '/openapi/v3']);

/**
 * The non-resource routes with a variable part, counted under their pattern: Kubernetes passes a
 * route's pattern, never the raw path, as a non-resource request's subresource.
 */
const NON_RESOURCE_PATTERNS: [RegExp, string][] = [
  [/^\/api\/[^/]+$/, '/api/{version}'],
  [/^\/apis\/[^/]+$/, '/apis/{group}'],
  [/^\/apis\/[^/]+\/[^/]+$/, '/apis/{group}/{version}'],
  [/^\/openapi\/v3\/.+$/, '/openapi/v3/{path}'],
];

/** The route a non-resource path takes, or OTHER_PATH. */
function nonResourceRouteOf(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/$/, '') : path;
  if (NON_RESOURCE_PATHS.has(trimmed)) return trimmed;
  return NON_RESOURCE_PATTERNS.find(([pattern]) => pattern.test(trimmed))?.[1] ?? OTHER_PATH;
}

/** The installer's scope: one object (or a create), a namespace's collection, or the cluster's. */
function scopeOf(method: string, route: ResourcePath): 'resource' | 'namespace' | 'cluster' {
  if (route.name !== undefined || method === 'POST') return 'resource';
  return route.namespace !== undefined ? 'namespace' : 'cluster';
}

/** CanonicalVerb, CleanVerb and cleanVerb: the method, with LIST, WATCH, APPLY and CONNECT told apart. */
function verbOf(req: MetricRequest, scope: string, route: ResourcePath | undefined): string {
  let verb = req.method.toUpperCase();
  if (verb === 'HEAD') verb = 'GET';
  if (verb === 'GET' && scope !== 'resource' && scope !== '') verb = 'LIST';
  // A watch is asked for by the parameter (Kubernetes reads its first value) or by the legacy path.
  if (route?.watch || ((verb === 'GET' || verb === 'LIST') && parseBool(queryString(req, 'watch')))) verb = 'WATCH';
  if (verb === 'PATCH' && isApplyPatch(req.headers['content-type'])) verb = 'APPLY';
  if (route?.subresource !== undefined && CONNECT_SUBRESOURCES.has(route.subresource)) verb = 'CONNECT';
  return REPORTED_VERBS.has(verb) ? verb : OTHER_VERB;
}

function isApplyPatch(contentType: string | undefined): boolean {
  try {
    return patchTypeOf(contentType ?? '') === 'apply';
  } catch {
    return false;
  }
}

/** cleanDryRun: none, "All", or "invalid" for any value the API refuses. */
function dryRunOf(req: MetricRequest): string {
  const values = queryValues(req, 'dryRun');
  if (!values.length) return '';
  return values.every((v) => v === 'All') ? 'All' : 'invalid';
}

/** The labels of one request, known from the request alone (the code is the response's). */
export function requestMetricLabels(req: MetricRequest): RequestMetricLabels {
  const route = parseResourcePathQuietly(req.path);
  const common = { dry_run: dryRunOf(req), component: API_SERVER_COMPONENT };
  if (route) {
    const scope = scopeOf(req.method.toUpperCase(), route);
    return {
      verb: verbOf(req, scope, route),
      group: route.group,
      version: route.version,
      resource: route.resource.plural,
      subresource: route.subresource ?? '',
      scope,
      ...common,
    };
  }
  const metrics = metricsPathQuietly(req.path);
  if (metrics) {
    const scope = metrics.name !== undefined ? 'resource' : metrics.namespace !== undefined ? 'namespace' : 'cluster';
    return { verb: verbOf(req, scope, undefined), group: METRICS_GROUP, version: METRICS_VERSION, resource: metrics.resource, subresource: '', scope, ...common };
  }
  return { verb: verbOf(req, '', undefined), group: '', version: '', resource: '', subresource: nonResourceRouteOf(req.path), scope: '', ...common };
}

/** metrics.k8s.io's paths (served beside the registry's kinds); a bad escape names none. */
function metricsPathQuietly(path: string): ReturnType<typeof parseMetricsPath> {
  try {
    return parseMetricsPath(path);
  } catch {
    return undefined;
  }
}
