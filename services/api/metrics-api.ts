// metrics.k8s.io/v1beta1, served by the API server itself from the samples the node agents write
// (shared/resource-metrics.ts), in metrics-server's shapes: NodeMetrics and PodMetrics, get and
// list, namespaced and across namespaces, with label and field selectors applied to the Nodes and
// Pods as metrics-server applies them to its informers' objects. A pod or node without a fresh
// sample is left out of a list and NotFound by name, as metrics-server has it. What kubectl top
// reads; discovery shows the group as metrics-server's APIService makes it appear.
import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Keys } from '../../shared/keys.ts';
import type { Store } from '../../shared/store/store.ts';
import type { KubeObject } from '../../shared/types.ts';
import { MethodNotAllowedError, NotFoundError } from '../../shared/errors.ts';
import { formatQuantity } from '../../shared/api/exact-quantity.ts';
import { matchesFields, matchesRequirements, parseFieldSelector, parseLabelSelector } from '../../shared/api/selectors.ts';
import { readNodeUsage, readOnePodUsage, readPodUsage, type NodeUsage, type PodUsage } from '../../shared/resource-metrics.ts';
import { decodeSegment, queryBool, queryString } from './request.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

export function metricsApiGroup() {
  const v = { groupVersion: API_VERSION, version: METRICS_VERSION };
  return { name: METRICS_GROUP, versions: [v], preferredVersion: v };
}

export function metricsResourceList() {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: API_VERSION,
    resources: [
      { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
    ],
  };
}

/** CPU as metrics-server writes it: nanocores, canonical ("1500000n", "5m", "0"). */
export function cpuQuantity(nanoCores: number): string {
  return formatQuantity({ nanos: BigInt(Math.max(0, Math.round(nanoCores))), format: 'DecimalSI' });
}

/** Memory as metrics-server writes it: bytes, BinarySI ("12345Ki", "2Mi", "1000"). */
export function memoryQuantity(bytes: number): string {
  return formatQuantity({ nanos: BigInt(Math.max(0, Math.round(bytes))) * 1_000_000_000n, format: 'BinarySI' });
}

/** A window as Go's time.Duration prints it ("15s", "1.5s", "1m0.25s"). */
export function goDuration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  if (ms === 0) return '0s';
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${Number(s.toFixed(3))}s`;
  return h ? `${h}h${m}m${sec}` : m ? `${m}m${sec}` : sec;
}

export function nodeMetrics(node: KubeObject, usage: NodeUsage, now: Date) {
  return {
    metadata: { name: node.metadata.name, creationTimestamp: now.toISOString().replace(/\.\d+Z$/, 'Z'), ...(node.metadata.labels ? { labels: node.metadata.labels } : {}) },
    timestamp: usage.timestamp.replace(/\.\d+Z$/, 'Z'),
    window: goDuration(usage.windowSeconds),
    usage: { cpu: cpuQuantity(usage.cpuNanoCores), memory: memoryQuantity(usage.memoryBytes) },
  };
}

export function podMetrics(pod: KubeObject, usage: PodUsage, now: Date) {
  return {
    metadata: {
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      creationTimestamp: now.toISOString().replace(/\.\d+Z$/, 'Z'),
      ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
    },
    timestamp: usage.timestamp.replace(/\.\d+Z$/, 'Z'),
    window: goDuration(usage.windowSeconds),
    containers: usage.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.cpuNanoCores), memory: memoryQuantity(c.memoryBytes) } })),
  };
}

export interface MetricsApiDeps {
  store: Store;
  redis: Redis;
  keys: Keys;
  /** A sample older than this is missing. */
  maxAgeMs: number;
}

interface MetricsPath {
  resource: 'nodes' | 'pods';
  namespace?: string;
  name?: string;
}

/** The metrics path under /apis/metrics.k8s.io/v1beta1, or undefined when it names nothing served. */
export function parseMetricsPath(path: string): MetricsPath | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeSegment);
  if (parts[0] !== 'apis' || parts[1] !== METRICS_GROUP || parts[2] !== METRICS_VERSION) return undefined;
  const rest = parts.slice(3);
  if (rest[0] === 'nodes' && rest.length <= 2) return { resource: 'nodes', name: rest[1] };
  if (rest[0] === 'pods' && rest.length === 1) return { resource: 'pods' };
  if (rest[0] === 'namespaces' && rest[2] === 'pods' && rest.length >= 3 && rest.length <= 4) return { resource: 'pods', namespace: rest[1], name: rest[3] };
  return undefined;
}

/** Answers a request under /apis/metrics.k8s.io/v1beta1; false when the path names nothing here. */
export async function serveMetricsApi(deps: MetricsApiDeps, req: Request, res: Response): Promise<boolean> {
  const path = parseMetricsPath(req.path);
  if (!path) return false;
  // get and list only, as metrics-server serves them: a write or a watch is a method not allowed.
  if (req.method !== 'GET' || queryBool(req, 'watch')) throw new MethodNotAllowedError('the server does not allow this method on the requested resource');
  const now = new Date();
  const labels = parseLabelSelector(queryString(req, 'labelSelector'));
  const fields = parseFieldSelector(queryString(req, 'fieldSelector'), path.resource === 'nodes' ? 'Node' : 'Pod');
  const selected = (obj: KubeObject) => matchesRequirements(obj.metadata.labels, labels) && matchesFields(obj, fields);

  if (path.resource === 'nodes') {
    if (path.name !== undefined) {
      const node = await deps.store.get('nodes', undefined, path.name);
      const usage = node && (await readNodeUsage(deps.redis, deps.keys, deps.maxAgeMs)).find((u) => u.name === path.name);
      if (!node || !usage) throw new NotFoundError('nodemetrics', path.name, METRICS_GROUP);
      res.json({ kind: 'NodeMetrics', apiVersion: API_VERSION, ...nodeMetrics(node, usage, now) });
      return true;
    }
    const [{ items }, samples] = await Promise.all([deps.store.list('nodes'), readNodeUsage(deps.redis, deps.keys, deps.maxAgeMs)]);
    const byName = new Map(samples.map((u) => [u.name, u]));
    const out = items.filter(selected).flatMap((n) => {
      const usage = byName.get(n.metadata.name!);
      return usage ? [nodeMetrics(n, usage, now)] : [];
    });
    res.json({ kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items: out });
    return true;
  }

  if (path.name !== undefined && path.namespace !== undefined) {
    const ref = { namespace: path.namespace, name: path.name };
    const pod = await deps.store.get('pods', path.namespace, path.name);
    const usage = pod && (await readOnePodUsage(deps.redis, deps.keys, ref, deps.maxAgeMs));
    // A sample of an earlier pod of the same name is not this pod's.
    if (!pod || !usage || usage.uid !== pod.metadata.uid) throw new NotFoundError('podmetrics', `${path.namespace}/${path.name}`, METRICS_GROUP);
    res.json({ kind: 'PodMetrics', apiVersion: API_VERSION, ...podMetrics(pod, usage, now) });
    return true;
  }
  const [{ items }, samples] = await Promise.all([deps.store.list('pods', path.namespace), readPodUsage(deps.redis, deps.keys, path.namespace, deps.maxAgeMs)]);
  const byKey = new Map(samples.map((u) => [`${u.namespace}/${u.name}`, u]));
  const out = items.filter(selected).flatMap((p) => {
    const usage = byKey.get(`${p.metadata.namespace}/${p.metadata.name}`);
    return usage && usage.uid === p.metadata.uid ? [podMetrics(p, usage, now)] : [];
  });
  res.json({ kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items: out });
  return true;
}
