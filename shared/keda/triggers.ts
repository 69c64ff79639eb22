// KEDA's trigger metadata (keda.sh/v1alpha1 ScaledObject spec.triggers[]) for the scalers Wharf
// serves natively: redis (a list's length), redis-streams (a consumer group's pending entries, its
// lag, or the stream's length), cron (a window) and cpu. Parsed once into typed configs with
// KEDA's names, defaults and error wording (pkg/scalers/*_scaler.go, scalersconfig/typed_config.go),
// so the API refuses a manifest KEDA's scalers could not build and the controller reads the same
// values. Pure: no connection is made here.
import { CronExpressionParser } from 'cron-parser';

export const TRIGGER_TYPES = ['redis', 'redis-streams', 'cron', 'cpu'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export interface ScaleTrigger {
  type: string;
  name?: string;
  metadata?: Record<string, string>;
  metricType?: string;
  authenticationRef?: { name: string; kind?: string };
  useCachedMetrics?: boolean;
}

/** Where a Redis server is and how to log in (KEDA's redisConnectionInfo, single-server form). */
export interface RedisConnection {
  address: string;
  username?: string;
  password?: string;
  /** The name of an environment variable of the scale target's container holding the password. */
  passwordFromEnv?: string;
  usernameFromEnv?: string;
  databaseIndex: number;
  enableTLS: boolean;
}

export interface RedisListTrigger {
  type: 'redis';
  connection: RedisConnection;
  listName: string;
  listLength: number;
  activationListLength: number;
  metricType: 'AverageValue' | 'Value';
  metricName: string;
}

export interface RedisStreamsTrigger {
  type: 'redis-streams';
  connection: RedisConnection;
  stream: string;
  consumerGroup?: string;
  /** What is counted: XPENDING's count, the group's lag (XINFO GROUPS), or XLEN. */
  factor: 'pending' | 'lag' | 'length';
  target: number;
  activationLagCount: number;
  metricType: 'AverageValue' | 'Value';
  metricName: string;
}

export interface CronTrigger {
  type: 'cron';
  timezone: string;
  start: string;
  end: string;
  desiredReplicas: number;
  metricType: 'AverageValue' | 'Value';
  metricName: string;
}

export interface CpuTrigger {
  type: 'cpu';
  metricType: 'Utilization' | 'AverageValue';
  /** Utilization: percent of the pods' requests; AverageValue: cores per pod. */
  value: number;
  containerName?: string;
  metricName: 'cpu';
}

export type TriggerConfig = RedisListTrigger | RedisStreamsTrigger | CronTrigger | CpuTrigger;

/** A problem with one trigger: the field (under the trigger) and KEDA's words for it. */
export interface TriggerProblem {
  field: string;
  message: string;
  kind: 'required' | 'invalid' | 'unsupported';
  value?: unknown;
}

export type ParsedTrigger = { ok: true; config: TriggerConfig } | { ok: false; problems: TriggerProblem[] };

/** KEDA's util.NormalizeString: what a metric name may not hold becomes a dash. */
export function normalizeMetricName(s: string): string {
  return s.replace(/[/.:%()]/g, '-');
}

/** KEDA's GenerateMetricNameWithIndex: "s0-redis-jobs". */
export function metricNameWithIndex(index: number, name: string): string {
  return `s${index}-${name}`;
}

/** KEDA's parseCronTimeFormat: a schedule as it appears in a metric name. */
function cronTimeFormat(s: string): string {
  return s.replaceAll(' ', '').replaceAll('*', 'x').replaceAll('/', 'Sl').replaceAll('?', 'Qm').replaceAll(',', 'Cm');
}

/** Parameters KEDA also takes from a TriggerAuthentication (order=triggerMetadata;authParams): the connection's. */
const AUTH_PARAMS = new Set(['address', 'addresses', 'host', 'hosts', 'port', 'ports', 'username', 'password']);

class Reader {
  readonly problems: TriggerProblem[] = [];
  /**
   * auth: the resolved TriggerAuthentication parameters; 'deferred' when the trigger names one that
   * is not read here (admission): its connection parameters may come from it, so their absence is no error.
   */
  constructor(private readonly meta: Record<string, string>, private readonly auth: Record<string, string> | 'deferred' = {}) {}

  get deferred(): boolean {
    return this.auth === 'deferred';
  }

  private value(name: string): string | undefined {
    const m = this.meta[name];
    if (m !== undefined && m !== '') return m;
    if (AUTH_PARAMS.has(name) && this.auth !== 'deferred') {
      const a = this.auth[name];
      if (a !== undefined && a !== '') return a;
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.value(name) !== undefined;
  }

  str(name: string, opts: { optional?: boolean; fallback?: string } = {}): string | undefined {
    if (this.has(name)) return this.value(name);
    if (opts.fallback !== undefined) return opts.fallback;
    if (!opts.optional) this.problems.push({ field: `metadata.${name}`, kind: 'required', message: `missing required parameter "${name}" in [triggerMetadata]` });
    return undefined;
  }

  int(name: string, opts: { optional?: boolean; fallback?: number; min?: number } = {}): number | undefined {
    if (!this.has(name)) {
      if (opts.fallback !== undefined) return opts.fallback;
      if (!opts.optional) this.problems.push({ field: `metadata.${name}`, kind: 'required', message: `missing required parameter "${name}" in [triggerMetadata]` });
      return undefined;
    }
    const raw = this.meta[name].trim();
    if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
      this.problems.push({ field: `metadata.${name}`, kind: 'invalid', value: this.meta[name], message: `unable to set param "${name}" value "${this.meta[name]}": strconv.ParseInt: parsing "${this.meta[name]}": invalid syntax` });
      return undefined;
    }
    const n = Number(raw);
    if (opts.min !== undefined && n < opts.min) {
      this.problems.push({ field: `metadata.${name}`, kind: 'invalid', value: this.meta[name], message: `must be greater than or equal to ${opts.min}` });
      return undefined;
    }
    return n;
  }

  bool(name: string): boolean {
    if (!this.has(name)) return false;
    const raw = this.meta[name];
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
    this.problems.push({ field: `metadata.${name}`, kind: 'invalid', value: raw, message: `unable to parse boolean value "${raw}": strconv.ParseBool: parsing "${raw}": invalid syntax` });
    return false;
  }

  problem(field: string, message: string, value?: unknown): void {
    this.problems.push({ field, kind: 'invalid', message, value });
  }
}

/** KEDA's redisConnectionInfo and validateRedisAddress for a single server (no cluster, no sentinel). */
function redisConnection(r: Reader): RedisConnection | undefined {
  const address = r.str('address', { optional: true }) ?? r.str('addresses', { optional: true });
  const host = r.str('host', { optional: true }) ?? r.str('hosts', { optional: true });
  const port = r.str('port', { optional: true }) ?? r.str('ports', { optional: true });
  let addr = address?.split(',')[0]?.trim();
  if (!addr && host && port) {
    const hosts = host.split(',').map((h) => h.trim());
    const ports = port.split(',').map((p) => p.trim());
    if (hosts.length !== ports.length) {
      r.problem('metadata.host', 'not enough hosts or ports given. number of hosts should be equal to the number of ports', host);
      return undefined;
    }
    addr = hosts[0].includes(':') ? `[${hosts[0]}]:${ports[0]}` : `${hosts[0]}:${ports[0]}`;
  }
  if (!addr && r.deferred) return { address: '', databaseIndex: r.int('databaseIndex', { fallback: 0, min: 0 }) ?? 0, enableTLS: r.bool('enableTLS') };
  if (!addr) {
    r.problems.push({ field: 'metadata.address', kind: 'required', message: 'no addresses or hosts given. address should be a comma separated list of host:port or set the host/port values' });
    return undefined;
  }
  const m = /^(.*):(\d+)$/.exec(addr);
  if (!m || !m[1] || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    r.problem(address ? 'metadata.address' : 'metadata.port', `address "${addr}" must be host:port with a port from 1 to 65535`, addr);
    return undefined;
  }
  const databaseIndex = r.int('databaseIndex', { fallback: 0, min: 0 }) ?? 0;
  const enableTLS = r.bool('enableTLS');
  return {
    address: addr,
    username: r.str('username', { optional: true }),
    password: r.str('password', { optional: true }),
    usernameFromEnv: r.str('usernameFromEnv', { optional: true }),
    passwordFromEnv: r.str('passwordFromEnv', { optional: true }),
    databaseIndex,
    enableTLS,
  };
}

/** KEDA's GetMetricTargetType for the external scalers: AverageValue unless told Value; never Utilization. */
function externalMetricType(trigger: ScaleTrigger, r: Reader): 'AverageValue' | 'Value' {
  const t = trigger.metricType ?? '';
  if (t === '' || t === 'AverageValue') return 'AverageValue';
  if (t === 'Value') return 'Value';
  if (t === 'Utilization') r.problems.push({ field: 'metricType', kind: 'invalid', value: t, message: 'scaler does not support utilization metric type' });
  else r.problems.push({ field: 'metricType', kind: 'unsupported', value: t, message: 'supported values: "AverageValue", "Value", "Utilization"' });
  return 'AverageValue';
}

function parseRedis(trigger: ScaleTrigger, index: number, r: Reader): RedisListTrigger | undefined {
  const metricType = externalMetricType(trigger, r);
  const connection = redisConnection(r);
  const listName = r.str('listName');
  const listLength = r.int('listLength', { fallback: 5 });
  const activationListLength = r.int('activationListLength', { fallback: 0 });
  if (listLength !== undefined && listLength <= 0) r.problem('metadata.listLength', 'listLength must be greater than 0', String(listLength));
  if (r.problems.length || !connection || listName === undefined || listLength === undefined || activationListLength === undefined) return undefined;
  return { type: 'redis', connection, listName, listLength, activationListLength, metricType, metricName: metricNameWithIndex(index, normalizeMetricName(`redis-${listName}`)) };
}

function parseRedisStreams(trigger: ScaleTrigger, index: number, r: Reader): RedisStreamsTrigger | undefined {
  const metricType = externalMetricType(trigger, r);
  const connection = redisConnection(r);
  const stream = r.str('stream');
  const consumerGroup = r.str('consumerGroup', { optional: true });
  const pending = r.int('pendingEntriesCount', { fallback: 5 });
  const length = r.int('streamLength', { fallback: 5 });
  const lag = r.int('lagCount', { fallback: 0 });
  const activationLagCount = r.int('activationLagCount', { fallback: 0 });
  if (r.problems.length || !connection || stream === undefined || pending === undefined || length === undefined || lag === undefined || activationLagCount === undefined) return undefined;
  // KEDA's redisStreamsMetadata.Validate: a consumer group counts its lag when lagCount is set, its
  // pending entries otherwise; without a group the stream's length is counted.
  const factor = consumerGroup ? (lag !== 0 ? 'lag' : 'pending') : 'length';
  const target = factor === 'lag' ? lag : factor === 'pending' ? pending : length;
  if (target <= 0) r.problem(`metadata.${factor === 'lag' ? 'lagCount' : factor === 'pending' ? 'pendingEntriesCount' : 'streamLength'}`, 'must be greater than 0', String(target));
  if (r.problems.length) return undefined;
  return { type: 'redis-streams', connection, stream, consumerGroup, factor, target, activationLagCount, metricType, metricName: metricNameWithIndex(index, normalizeMetricName(`redis-streams-${stream}`)) };
}

/** The error robfig/cron's standard parser gives, or undefined when the spec is a 5-field schedule it takes. */
export function cronSpecError(spec: string): string | undefined {
  const fields = spec.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  try {
    CronExpressionParser.parse(spec, { tz: 'UTC' });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Whether tz names an IANA time zone this process knows (Go's time.LoadLocation). */
export function isTimeZone(tz: string): boolean {
  if (tz === 'Local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function parseCron(trigger: ScaleTrigger, index: number, r: Reader): CronTrigger | undefined {
  const metricType = externalMetricType(trigger, r);
  const timezone = r.str('timezone');
  const start = r.str('start');
  const end = r.str('end');
  const desiredReplicas = r.int('desiredReplicas');
  if (start !== undefined) {
    const e = cronSpecError(start);
    if (e) r.problem('metadata.start', `error parsing start schedule: ${e}`, start);
  }
  if (end !== undefined) {
    const e = cronSpecError(end);
    if (e) r.problem('metadata.end', `error parsing end schedule: ${e}`, end);
  }
  if (start !== undefined && start === end) r.problem('metadata.end', 'start and end can not have exactly same time input', end);
  if (desiredReplicas === 0) r.problem('metadata.desiredReplicas', 'no desiredReplicas specified', '0');
  if (timezone !== undefined && !isTimeZone(timezone)) r.problem('metadata.timezone', `unable to load timezone: unknown time zone ${timezone}`, timezone);
  if (r.problems.length || timezone === undefined || start === undefined || end === undefined || desiredReplicas === undefined) return undefined;
  const name = normalizeMetricName(`cron-${timezone}-${cronTimeFormat(start)}-${cronTimeFormat(end)}`);
  return { type: 'cron', timezone, start, end, desiredReplicas, metricType, metricName: metricNameWithIndex(index, name) };
}

function parseCpu(trigger: ScaleTrigger, r: Reader): CpuTrigger | undefined {
  // The deprecated metadata `type` is what metricType replaced (removed in KEDA 2.18): Wharf takes metricType only.
  if (r.has('type')) r.problem('metadata.type', "the 'type' setting is DEPRECATED and is removed in v2.18 - Use 'metricType' instead.", r.str('type'));
  const metricType = trigger.metricType ?? '';
  const raw = r.str('value');
  const containerName = r.str('containerName', { optional: true });
  if (metricType !== 'Utilization' && metricType !== 'AverageValue') {
    r.problems.push({ field: 'metricType', kind: 'invalid', value: metricType, message: `unknown metric type: ${metricType}, allowed values are 'Utilization' or 'AverageValue'` });
    return undefined;
  }
  if (raw === undefined) return undefined;
  let value: number;
  if (metricType === 'Utilization') {
    if (!/^[+-]?\d+$/.test(raw.trim())) {
      r.problem('metadata.value', `strconv.ParseInt: parsing "${raw}": invalid syntax`, raw);
      return undefined;
    }
    value = Number(raw);
    if (value <= 0) r.problem('metadata.value', 'must be greater than 0', raw);
  } else {
    const q = parseCpuQuantity(raw);
    if (q === undefined) {
      r.problem('metadata.value', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'", raw);
      return undefined;
    }
    value = q;
    if (value <= 0) r.problem('metadata.value', 'must be greater than 0', raw);
  }
  if (r.problems.length) return undefined;
  return { type: 'cpu', metricType, value, containerName, metricName: 'cpu' };
}

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;
function parseCpuQuantity(s: string): number | undefined {
  const m = QUANTITY.exec(s.trim());
  if (!m) return undefined;
  const scale: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
  return m[3] !== undefined ? Number(m[1]) * 10 ** Number(m[3]) : Number(m[1]) * scale[m[2] ?? ''];
}

/** One trigger's metadata, as KEDA's scaler for its type reads it (index: its place in spec.triggers). */
export function parseTrigger(trigger: ScaleTrigger, index: number, authParams?: Record<string, string>): ParsedTrigger {
  const r = new Reader(trigger.metadata ?? {}, authParams ?? (trigger.authenticationRef ? 'deferred' : {}));
  let config: TriggerConfig | undefined;
  switch (trigger.type) {
    case 'redis':
      config = parseRedis(trigger, index, r);
      break;
    case 'redis-streams':
      config = parseRedisStreams(trigger, index, r);
      break;
    case 'cron':
      config = parseCron(trigger, index, r);
      break;
    case 'cpu':
      config = parseCpu(trigger, r);
      break;
    default:
      return { ok: false, problems: [{ field: 'type', kind: 'unsupported', value: trigger.type, message: `no scaler found for type: ${trigger.type}` }] };
  }
  if (!config || r.problems.length) return { ok: false, problems: r.problems.length ? r.problems : [{ field: 'metadata', kind: 'invalid', message: `error parsing ${trigger.type} metadata` }] };
  return { ok: true, config };
}

/** KEDA's CombinedTriggersAndAuthenticationsTypes: "redis,cron" and "auth-a,auth-b" (the TRIGGERS and AUTHENTICATIONS columns). */
export function triggersAndAuthenticationsTypes(triggers: ScaleTrigger[]): { triggersTypes: string; authenticationsTypes: string } {
  const types: string[] = [];
  const auths: string[] = [];
  for (const t of triggers) {
    if (!types.includes(t.type)) types.push(t.type);
    if (t.authenticationRef?.name && !auths.includes(t.authenticationRef.name)) auths.push(t.authenticationRef.name);
  }
  return { triggersTypes: types.join(','), authenticationsTypes: auths.join(',') };
}

/**
 * KEDA's cron scaler: within the window when the next end comes before the next start (the last
 * start has happened, its end has not). Both times are computed in the trigger's time zone.
 */
export function cronWindow(start: string, end: string, timezone: string, nowMs: number): { active: boolean; nextChangeMs: number } {
  const tz = timezone === 'Local' ? Intl.DateTimeFormat().resolvedOptions().timeZone : timezone;
  const opts = { currentDate: new Date(nowMs), tz };
  const nextStart = CronExpressionParser.parse(start, opts).next().getTime();
  const nextEnd = CronExpressionParser.parse(end, opts).next().getTime();
  const active = nextEnd < nextStart;
  return { active, nextChangeMs: active ? nextEnd : nextStart };
}
