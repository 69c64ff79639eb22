// Scale to zero on HTTP traffic, the parts every side shares: what an HTTPScaledObject
// (http.keda.sh/v1alpha1, KEDA's HTTP add-on) means once KEDA's defaults are applied, and how the
// node agents' service proxies report a Service's traffic through Redis for the controller that
// scales on it.
//
// Redis layout (Keys.serviceTraffic): one hash per Service,
//   n:<node>          JSON NodeTraffic, the node's latest report (rewritten every report interval)
//   s:<unix second>   connections opened in that second, summed over nodes (HINCRBY)
//   since             ms when the first report of the hash was written (a rate over a window
//                     younger than this is averaged over the part that exists, as KEDA does)
// The hash expires when no node has written it for a while (TRAFFIC_TTL_SECONDS), so a Service that
// lost its HTTPScaledObject leaves nothing behind.
//
// The measure is TCP: the proxies are L4 and see connections, not requests. A connection open is
// "a request in flight" for HTTP/1.0 and for HTTP/1.1 clients that close, and an upper bound for
// keep-alive clients that hold idle connections; connections opened per second is the request
// rate when each request has its own connection.
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';
import type { KubeObject } from './types.ts';

// ---- the HTTPScaledObject, with KEDA's defaults ------------------------------------------------

/** KEDA's defaults: the add-on's operator and KEDA's ScaledObject, as they apply when a field is left out. */
export const HTTPSO_DEFAULTS = {
  minReplicas: 0,
  maxReplicas: 100,
  scaledownPeriodSeconds: 300,
  initialCooldownPeriodSeconds: 0,
  targetValue: 100,
  window: '1m',
  granularity: '1s',
  targetKind: 'Deployment',
  targetApiVersion: 'apps/v1',
} as const;

export type ScalingMetric =
  | { type: 'concurrency'; targetValue: number }
  | { type: 'requestRate'; targetValue: number; windowMs: number; granularityMs: number };

export interface HttpScaling {
  /** The Service whose traffic is measured and held. */
  service: string;
  targetKind: string;
  targetApiVersion: string;
  /** The workload scaled (the Deployment's name). */
  targetName: string;
  minReplicas: number;
  maxReplicas: number;
  scaledownPeriodMs: number;
  initialCooldownMs: number;
  metric: ScalingMetric;
}

const GO_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("1m", "1.5s", "1h30m", "500ms"), in ms; undefined when it does not parse. */
export function parseGoDurationMs(text: unknown): number | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let sign = 1;
  let i = 0;
  if (text[0] === '-' || text[0] === '+') {
    sign = text[0] === '-' ? -1 : 1;
    i = 1;
  }
  let total = 0;
  if (i >= text.length) return undefined;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * GO_UNITS_MS[m[2]];
    i = re.lastIndex;
  }
  return sign * total;
}

/** What an HTTPScaledObject asks for, KEDA's defaults filled in (the stored object keeps only what the user wrote, as KEDA's). */
export function httpScaling(httpso: KubeObject): HttpScaling {
  const spec = (httpso.spec ?? {}) as any;
  const ref = spec.scaleTargetRef ?? {};
  const rate = spec.scalingMetric?.requestRate;
  const metric: ScalingMetric = rate
    ? {
        type: 'requestRate',
        targetValue: rate.targetValue ?? HTTPSO_DEFAULTS.targetValue,
        windowMs: parseGoDurationMs(rate.window ?? HTTPSO_DEFAULTS.window) ?? 60_000,
        granularityMs: parseGoDurationMs(rate.granularity ?? HTTPSO_DEFAULTS.granularity) ?? 1000,
      }
    : { type: 'concurrency', targetValue: spec.scalingMetric?.concurrency?.targetValue ?? spec.targetPendingRequests ?? HTTPSO_DEFAULTS.targetValue };
  return {
    service: ref.service ?? '',
    targetKind: ref.kind || HTTPSO_DEFAULTS.targetKind,
    targetApiVersion: ref.apiVersion || HTTPSO_DEFAULTS.targetApiVersion,
    targetName: ref.name ?? '',
    minReplicas: spec.replicas?.min ?? HTTPSO_DEFAULTS.minReplicas,
    maxReplicas: spec.replicas?.max ?? HTTPSO_DEFAULTS.maxReplicas,
    scaledownPeriodMs: (spec.scaledownPeriod ?? HTTPSO_DEFAULTS.scaledownPeriodSeconds) * 1000,
    initialCooldownMs: (spec.initialCooldownPeriod ?? HTTPSO_DEFAULTS.initialCooldownPeriodSeconds) * 1000,
    metric,
  };
}

// ---- traffic reports -------------------------------------------------------------------------

/** One node's view of one Service's TCP traffic. */
export interface NodeTraffic {
  /** When the report was made (ms). */
  at: number;
  /** Connections relayed to a backend and still open. */
  inFlight: number;
  /** Connections held while the Service has no ready endpoint (the activator's). */
  held: number;
  /** The last moment this node had a connection open, opened or closed (ms). */
  lastActive: number;
}

/** A Service's traffic summed over the nodes. */
export interface ServiceTraffic {
  inFlight: number;
  held: number;
  /** The latest activity on any node (ms); 0 when no node ever reported any. */
  lastActive: number;
  /** Connections opened, by unix second. */
  opened: Map<number, number>;
  /** When the record began (ms); undefined when there is none. */
  since?: number;
  /** Nodes whose report is fresh. */
  nodes: number;
}

/** Seconds a traffic hash outlives its last write. */
export const TRAFFIC_TTL_SECONDS = 3600;

/** Writes one node's report for one Service, and the connections it saw opened since its last report. */
export function writeTraffic(tx: ReturnType<Redis['multi']>, keys: Keys, namespace: string, name: string, node: string, report: NodeTraffic, opened: Map<number, number>, forget: number[]): void {
  const key = keys.serviceTraffic(namespace, name);
  tx.hset(key, `n:${node}`, JSON.stringify(report));
  tx.hsetnx(key, 'since', String(report.at));
  for (const [second, n] of opened) if (n > 0) tx.hincrby(key, `s:${second}`, n);
  if (forget.length) tx.hdel(key, ...forget.map((s) => `s:${s}`));
  tx.expire(key, TRAFFIC_TTL_SECONDS);
}

/** The traffic of a Service summed over nodes (pure): reports older than staleMs count for their lastActive only. */
export function aggregateTraffic(fields: Record<string, string>, now: number, staleMs: number): ServiceTraffic {
  const out: ServiceTraffic = { inFlight: 0, held: 0, lastActive: 0, opened: new Map(), nodes: 0 };
  for (const [field, value] of Object.entries(fields)) {
    if (field === 'since') {
      const since = Number(value);
      if (Number.isFinite(since)) out.since = since;
    } else if (field.startsWith('s:')) {
      const second = Number(field.slice(2));
      const n = Number(value);
      if (Number.isInteger(second) && Number.isFinite(n)) out.opened.set(second, n);
    } else if (field.startsWith('n:')) {
      let r: Partial<NodeTraffic>;
      try {
        r = JSON.parse(value);
      } catch {
        continue;
      }
      if (typeof r.lastActive === 'number') out.lastActive = Math.max(out.lastActive, r.lastActive);
      // A node that stopped reporting took its connections with it.
      if (typeof r.at !== 'number' || now - r.at > staleMs) continue;
      out.nodes++;
      out.inFlight += Math.max(0, Number(r.inFlight) || 0);
      out.held += Math.max(0, Number(r.held) || 0);
      if ((r.inFlight ?? 0) > 0 || (r.held ?? 0) > 0) out.lastActive = Math.max(out.lastActive, r.at);
    }
  }
  return out;
}

export async function readTraffic(redis: Redis, keys: Keys, namespace: string, name: string, staleMs: number, now = Date.now()): Promise<ServiceTraffic> {
  return aggregateTraffic(await redis.hgetall(keys.serviceTraffic(namespace, name)), now, staleMs);
}

/**
 * KEDA's request rate: the average count per `granularity` bucket over the last `window` (the
 * add-on's RequestsBuckets.WindowAverage), over only the part of the window that has data when
 * the record is younger than the window. Seconds are the finest buckets kept.
 */
export function requestRate(opened: Map<number, number>, now: number, windowMs: number, granularityMs: number, since?: number): number {
  const granularity = Math.max(1000, granularityMs);
  const nowSecond = Math.floor(now / 1000);
  const firstSecond = nowSecond - Math.max(1, Math.ceil(windowMs / 1000)) + 1;
  let total = 0;
  for (const [second, n] of opened) if (second >= firstSecond && second <= nowSecond) total += n;
  const coveredMs = since !== undefined ? Math.min(windowMs, Math.max(0, now - since) + 1000) : windowMs;
  const buckets = Math.max(1, Math.min(Math.ceil(windowMs / granularity), Math.ceil(coveredMs / granularity)));
  return Math.round((total / buckets) * 1000) / 1000;
}
