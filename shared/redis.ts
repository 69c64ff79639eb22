// Redis connections. Blocking readers (BullMQ workers, stream consumers) each need their own
// connection; everything else shares one per process. Every connection of a process reports to
// one RedisOutageLog, so an outage reads as one line when it starts and one when it ends, however
// many connections retry how often in between.
import { Redis, type RedisOptions } from 'ioredis';
import type { CommonConfig, RedisSentinelConfig } from './config.ts';
import { storeFailure } from './errors.ts';
import type { Logger } from './log.ts';

/**
 * Where a process's Redis is: one server (url), or the primary that Redis Sentinel names. With
 * sentinels the url gives only the user, password and database; the address comes from them.
 */
export interface RedisTarget {
  url: string;
  sentinel?: RedisSentinelConfig;
}

/** The target of a process's configuration; REDIS_URL unset means the Redis on this machine. */
export function redisTarget(common: Pick<CommonConfig, 'redisUrl' | 'redisSentinel'>): RedisTarget {
  return { url: common.redisUrl ?? 'redis://127.0.0.1:6379', sentinel: common.redisSentinel };
}

/**
 * How ioredis finds the server: the url, or through the sentinels the current primary, asked again
 * on every reconnect. A failover reaches a connection as its socket dropping (the primary died, or
 * Redis closing clients' connections when its role changes) or as a READONLY reply (below).
 * ioredis' failoverDetector (subscribing to the sentinels' +switch-master) stays off, as ioredis
 * defaults it: a +switch-master arriving while a connection is redialling aborts that dial, and
 * ioredis then ends the connection for good ("Connection is closed."; seen here under load).
 */
export function targetOptions(target: RedisTarget): RedisOptions {
  if (!target.sentinel) return {};
  const url = new URL(target.url);
  const s = target.sentinel;
  return {
    sentinels: s.sentinels,
    name: s.masterName,
    role: 'master',
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    sentinelUsername: s.sentinelUsername,
    sentinelPassword: s.sentinelPassword,
    // Until the sentinels name a new primary (seconds) the old address refuses: retry at a steady
    // pace rather than backing off to 2 s, so a connection is back soon after the promotion.
    retryStrategy: (times) => Math.min(100 * times, 500),
    // While the sentinels have not yet promoted a replica they answer the old primary's address,
    // which refuses: ask again soon, as the data connection's own retries do.
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
    // A sentinel that does not answer must not hold up asking the next one.
    sentinelCommandTimeout: 1000,
  };
}

/**
 * A READONLY reply means this connection still talks to a primary that has since been made a
 * replica (a failover that did not drop its socket): reconnect, which asks the sentinels for the
 * new primary, and send the command again there (2) — or, for a connection that queues nothing,
 * fail it so the request answers 503 (1). The write id makes a re-sent object write harmless.
 */
export function reconnectOnReadonly(resend: boolean): (err: Error) => boolean | 1 | 2 {
  return (err) => (err.message.startsWith('READONLY') ? (resend ? 2 : 1) : false);
}

export function connectRedis(target: RedisTarget | string, options: RedisOptions = {}, outages?: RedisOutageLog): Redis {
  const t = typeof target === 'string' ? { url: target } : target;
  const settings: RedisOptions = {
    // BullMQ requires null here; for ordinary commands it means "wait for the reconnect" rather
    // than failing work while Redis restarts (the write id makes a re-sent write harmless).
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    ...targetOptions(t),
    ...options,
  };
  settings.reconnectOnError ??= reconnectOnReadonly(settings.enableOfflineQueue !== false);
  const connection = t.sentinel ? new Redis(settings) : new Redis(t.url, settings);
  // Without a listener ioredis prints a stack trace per failed reconnect attempt. Without an
  // outage log (tests) the failures still reach whoever sent the commands.
  if (outages) outages.watch(connection);
  else connection.on('error', () => undefined);
  return connection;
}

/** One process's connections, all reporting to the same outage log. */
export function redisConnector(target: RedisTarget | string, log: Logger): (options?: RedisOptions) => Redis {
  const outages = new RedisOutageLog(log);
  return (options = {}) => connectRedis(target, options, outages);
}

/**
 * For a connection that serves requests which must answer in bounded time (the API server's):
 * while Redis is unreachable a command fails at once instead of waiting in a queue; a command in
 * flight when the connection drops fails instead of being re-sent whenever Redis comes back; a
 * Redis that stops answering fails the command after commandTimeoutMs, and the connection is then
 * dropped and redialled, so the commands after it fail at once rather than each waiting out the
 * timeout behind it. Start-up must wait for the connection first (untilReady).
 */
export function failFastOptions(commandTimeoutMs: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    // Equal to the command timeout: its timer is armed second, so the command that waited longest
    // fails as a timeout (504) before the drop fails the rest as unreachable (503).
    socketTimeout: commandTimeoutMs,
    connectTimeout: commandTimeoutMs,
  };
}

/** Resolves once the connection can take commands (at once if it can now). */
export function untilReady(connection: Redis): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const ready = () => {
      connection.off('end', ended);
      resolve();
    };
    const ended = () => {
      connection.off('ready', ready);
      reject(new Error('the Redis connection was closed before it was ready'));
    };
    connection.once('ready', ready);
    connection.once('end', ended);
  });
}

/**
 * Why this connection cannot serve now, or undefined when it can: read from its state, which
 * answers at once while it is down; a connection that looks up must also answer a PING within
 * pingTimeoutMs (a hung Redis keeps the connection up).
 */
export async function redisReadiness(connection: Redis, pingTimeoutMs: number): Promise<string | undefined> {
  if (connection.status !== 'ready') return `not connected (${connection.status})`;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer to PING within ${pingTimeoutMs}ms`), pingTimeoutMs)));
  try {
    return await Promise.race([connection.ping().then(() => undefined), late]);
  } catch (err) {
    return (err as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

/** True when err says Redis was unreachable or did not answer, rather than that the command was wrong. */
export function isRedisOutage(err: unknown): boolean {
  return storeFailure(err) !== undefined;
}

/**
 * Runs fn until it does not fail for want of Redis, waiting for the connection between tries: for
 * start-up work on a connection that does not queue commands (failFastOptions).
 */
export async function retryWhileRedisDown<T>(connection: Redis, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isRedisOutage(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await untilReady(connection);
    }
  }
}

export type OutageReport =
  | { kind: 'started'; message: string }
  | { kind: 'ongoing'; message: string; downMs: number; errors: number }
  | { kind: 'ended'; downMs: number; errors: number };

/**
 * When an outage is worth a log line: when the first connection fails, once a reminderMs while it
 * lasts, and when no connection is failing any more and one has reached Redis again. Pure: the
 * caller passes the time and writes the lines.
 */
export class OutageState {
  private readonly failing = new Set<object>();
  private since: number | undefined;
  private lastReport = 0;
  private errors = 0;

  constructor(private readonly reminderMs = 60_000) {}

  get down(): boolean {
    return this.since !== undefined;
  }

  failed(connection: object, message: string, now: number): OutageReport | undefined {
    this.failing.add(connection);
    this.errors++;
    if (this.since === undefined) {
      this.since = now;
      this.lastReport = now;
      return { kind: 'started', message };
    }
    if (now - this.lastReport < this.reminderMs) return undefined;
    this.lastReport = now;
    return { kind: 'ongoing', message, downMs: now - this.since, errors: this.errors };
  }

  /** A connection is ready again. */
  recovered(connection: object, now: number): OutageReport | undefined {
    this.failing.delete(connection);
    if (this.since === undefined || this.failing.size > 0) return undefined;
    const report: OutageReport = { kind: 'ended', downMs: now - this.since, errors: this.errors };
    this.since = undefined;
    this.errors = 0;
    return report;
  }

  /** A connection was closed for good: it no longer holds an outage open, nor does its closing end one. */
  closed(connection: object): void {
    this.failing.delete(connection);
  }
}

/** The adapter between ioredis' connection events and the log. */
export class RedisOutageLog {
  private readonly state: OutageState;

  constructor(private readonly log: Logger, reminderMs?: number) {
    this.state = new OutageState(reminderMs);
  }

  watch(connection: Redis): Redis {
    connection.on('error', (err: Error) => this.report(this.state.failed(connection, errorMessage(err), Date.now())));
    connection.on('ready', () => this.report(this.state.recovered(connection, Date.now())));
    connection.on('end', () => this.state.closed(connection));
    return connection;
  }

  private report(r: OutageReport | undefined): void {
    if (!r) return;
    if (r.kind === 'started') this.log.warn({ err: r.message }, 'Redis unreachable');
    else if (r.kind === 'ongoing') this.log.warn({ err: r.message, downMs: r.downMs, errors: r.errors }, 'Redis still unreachable');
    else this.log.info({ downMs: r.downMs, errors: r.errors }, 'Redis reachable again');
  }
}

function errorMessage(err: Error): string {
  // A host name with several addresses fails as an AggregateError with an empty message.
  const first = err instanceof AggregateError ? err.errors[0] : undefined;
  return err.message || (first instanceof Error ? first.message : '') || String((err as { code?: unknown }).code ?? err);
}
