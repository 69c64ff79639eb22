// The external side of the redis and redis-streams triggers: one connection per trigger, made on
// first use, kept while the ScaledObject polls, dropped on any error (the next poll makes a new
// one, as KEDA clears its scalers cache on an error) and closed when the ScaledObject goes or stops
// being polled here. Every connect and command is bounded by a short timeout, so a Redis that
// points nowhere costs one bounded failure per poll.
import { Redis } from 'ioredis';
import type { RedisConnection, RedisListTrigger, RedisStreamsTrigger } from '../../../shared/keda/triggers.ts';

// KEDA's redis scaler script: the "length" of a list, or of a set, sorted set or hash under that name.
const LENGTH_SCRIPT = `
local listType = redis.call('type', KEYS[1]).ok
if listType == 'zset' then return redis.call('zcard', KEYS[1])
elseif listType == 'set' then return redis.call('scard', KEYS[1])
elseif listType == 'hash' then return redis.call('hlen', KEYS[1])
elseif listType == 'list' or listType == 'none' then return redis.call('llen', KEYS[1])
else return redis.error_reply('ERR unsupported key type: ' .. listType) end`;

interface Entry {
  client: Redis;
  fingerprint: string;
  lastUsed: number;
}

/** The login a connection uses, with any password read from the target's environment. */
export interface ResolvedConnection extends RedisConnection {
  resolvedPassword?: string;
  resolvedUsername?: string;
}

export class TriggerConnections {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: { timeoutMs: number; idleMs: number }) {}

  private async client(owner: string, index: number, conn: ResolvedConnection): Promise<Redis> {
    const key = `${owner}#${index}`;
    const fingerprint = JSON.stringify([conn.address, conn.databaseIndex, conn.enableTLS, conn.resolvedUsername ?? conn.username, conn.resolvedPassword ?? conn.password]);
    const found = this.entries.get(key);
    if (found && found.fingerprint === fingerprint && found.client.status === 'ready') {
      found.lastUsed = Date.now();
      return found.client;
    }
    if (found) this.drop(key);
    const m = /^\[?(.*?)\]?:(\d+)$/.exec(conn.address)!;
    const client = new Redis({
      host: m[1],
      port: Number(m[2]),
      db: conn.databaseIndex,
      username: conn.resolvedUsername ?? conn.username,
      password: conn.resolvedPassword ?? conn.password,
      tls: conn.enableTLS ? {} : undefined,
      lazyConnect: true,
      connectTimeout: this.opts.timeoutMs,
      commandTimeout: this.opts.timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      // No reconnection loop: a failed connection is dropped and the next poll makes a new one.
      retryStrategy: () => null,
      connectionName: 'wharf-keda-scaler',
    });
    // Without reconnection ioredis rejects connect() with "Connection is closed."; the cause is the error event's.
    let cause: unknown;
    client.on('error', (err) => {
      cause ??= err;
    });
    this.entries.set(key, { client, fingerprint, lastUsed: Date.now() });
    try {
      await withTimeout(client.connect(), this.opts.timeoutMs, `dial tcp ${conn.address}: i/o timeout`);
    } catch (err) {
      this.drop(key);
      throw new Error(`connection to redis failed: ${describe(cause ?? err, conn.address)}`);
    }
    return client;
  }

  /** KEDA's redis scaler: the list's length. */
  async listLength(owner: string, index: number, t: RedisListTrigger, conn: ResolvedConnection): Promise<number> {
    return this.run(owner, index, conn, async (c) => Number(await c.eval(LENGTH_SCRIPT, 1, t.listName)));
  }

  /** KEDA's redis-streams scaler: pending entries of the group, its lag, or the stream's length. */
  async streamCount(owner: string, index: number, t: RedisStreamsTrigger, conn: ResolvedConnection): Promise<number> {
    return this.run(owner, index, conn, async (c) => {
      if (t.factor === 'length') return Number(await c.xlen(t.stream));
      if (t.factor === 'pending') {
        try {
          const summary = (await c.xpending(t.stream, t.consumerGroup!)) as [number, ...unknown[]];
          return Number(summary[0]);
        } catch (err) {
          // No stream or no group yet: nothing is pending (KEDA's go-redis returns the same NOGROUP error; a scaler at zero must still read 0).
          if (/NOGROUP/.test((err as Error).message)) return 0;
          throw err;
        }
      }
      let groups: unknown[];
      try {
        groups = (await c.xinfo('GROUPS', t.stream)) as unknown[];
      } catch (err) {
        if (/no such key/i.test((err as Error).message)) return 0;
        throw err;
      }
      for (const g of groups as unknown[][]) {
        const fields = new Map<string, unknown>();
        for (let i = 0; i + 1 < g.length; i += 2) fields.set(String(g[i]), g[i + 1]);
        if (fields.get('name') === t.consumerGroup) return Number(fields.get('lag') ?? 0);
      }
      return Number(await c.xlen(t.stream));
    });
  }

  private async run<T>(owner: string, index: number, conn: ResolvedConnection, fn: (c: Redis) => Promise<T>): Promise<T> {
    const client = await this.client(owner, index, conn);
    try {
      return await withTimeout(fn(client), this.opts.timeoutMs, `redis command timed out after ${this.opts.timeoutMs}ms`);
    } catch (err) {
      this.drop(`${owner}#${index}`);
      throw new Error(describe(err, conn.address));
    }
  }

  /** Closes the connections of an owner's triggers beyond `keep` (all of them by default). */
  close(owner: string, keep = 0): void {
    for (const key of [...this.entries.keys()]) {
      const at = key.lastIndexOf('#');
      if (key.slice(0, at) === owner && Number(key.slice(at + 1)) >= keep) this.drop(key);
    }
  }

  /** Closes the connections of every owner not in `owners` (ScaledObjects deleted while another process took the event). */
  retain(owners: Set<string>): void {
    for (const key of [...this.entries.keys()]) if (!owners.has(key.slice(0, key.lastIndexOf('#')))) this.drop(key);
  }

  /** Closes connections no poll used lately: their ScaledObject went, or another controller manager polls it now. */
  sweep(now = Date.now()): void {
    for (const [key, e] of this.entries) if (now - e.lastUsed > this.opts.idleMs) this.drop(key);
  }

  closeAll(): void {
    for (const key of [...this.entries.keys()]) this.drop(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    e.client.disconnect();
  }
}

function describe(err: unknown, address: string): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ECONNREFUSED') return `dial tcp ${address}: connect: connection refused`;
  if (e?.code === 'ETIMEDOUT' || /timed? ?out/i.test(e?.message ?? '')) return `dial tcp ${address}: i/o timeout`;
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') return `dial tcp: lookup ${address.replace(/:\d+$/, '')}: no such host`;
  return e?.message ?? String(err);
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(message), { code: 'ETIMEDOUT' })), ms);
    }),
  ]);
}
