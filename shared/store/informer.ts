// A read-only cache of one kind that follows its change stream, as client-go's informers do: list,
// then read the stream from the list's resourceVersion; relist when the stream was compacted past
// the cursor or Redis went away. For components that need every object of a kind at hand (a node's
// service proxy and DNS) rather than work items (controllers use consumer groups instead).
import type { Redis } from 'ioredis';
import type { KubeObject } from '../types.ts';
import type { Logger } from '../log.ts';
import { ExpiredError } from '../errors.ts';
import { isRedisOutage } from '../redis.ts';
import { watchPositionVerdict, type Store, type StoredEvent } from './store.ts';

export interface InformerOptions {
  store: Store;
  resource: string;
  /**
   * Follow the resource's view (Strategy.view: a small projection, on a stream of its own) instead
   * of its objects: the cache then holds the views of the objects that have one. A sharded view
   * (Strategy.viewShard) is on several streams, of which follow() picks those read as they change;
   * the others are read when caughtUp() asks for every change.
   */
  view?: boolean;
  /** A dedicated connection: XREAD BLOCK holds it. */
  connection: Redis;
  log: Logger;
  /** Called after the cache changed (a batch of events, or a relist). */
  onChange?: () => void;
  /** For a cache of one's own: every list, whole, and then the events after it, in order. */
  onRelist?: (items: KubeObject[]) => void;
  onEvents?: (events: StoredEvent[]) => void;
  /**
   * After a read that brought events (fewer than a read takes at most), wait this long before the
   * next, so that a steady flow arrives in batches of many events rather than a few each: a
   * follower of a busy stream pays a wake-up, a round trip and a cold cache per read, which
   * dominate what it does per event. The first event after a quiet spell comes at once (the wait
   * comes after it), a backlog is read without waiting, and caughtUp() cuts a wait short, so a
   * reader that must see the latest state asks for it. 0 (the default): no wait.
   */
  gatherMs?: number;
  /**
   * false: the owner keeps its own cache from onRelist and onEvents, and this one keeps none (no
   * second map of every object to build and to collect; list() refuses). Default true.
   */
  keepObjects?: boolean;
}

/** Events one read takes of a stream at most. */
const READ_COUNT = 1000;

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  /**
   * Key -> the stream and resourceVersion of the event that put the object in the cache (none
   * after a list; kept only for a resource on several streams). An object of a sharded view moves between streams (its DELETED on one, its
   * ADDED on the other, one resourceVersion), and the streams are read apart.
   */
  private readonly cachedFrom = new Map<string, { stream: string; rv: number }>();
  /** Every stream of the resource (Keys.stream's argument): the resource, or its view's streams. */
  readonly streams: readonly string[];
  /** Stream -> the resourceVersion of the last of its events in the cache. */
  private readonly cursors = new Map<string, number>();
  /** The streams read as they change (the others: when caughtUp asks). */
  private followed: Set<string>;
  private stopped = false;
  /** Ends the current gathering wait early (caughtUp, stop). */
  private endWait?: () => void;
  /** Waiters of caughtUp, woken whenever a cursor moves on. */
  private readonly advanced = new Set<() => void>();
  private loop?: Promise<void>;
  private synced!: Promise<void>;
  /** The relist under way (the loop's, or a catch-up's that found a stream compacted). */
  private relisting?: Promise<void>;
  /** For the reads of the streams not followed (the loop's connection is held by its blocking read). */
  private catchUpConnection?: Redis;

  constructor(private readonly opts: InformerOptions) {
    const { store, resource, view } = opts;
    const shards = view ? store.viewShards(resource) : [''];
    this.streams = shards.map((shard) => (view ? store.keys.viewOf(resource, shard) : resource));
    this.followed = new Set(this.streams);
  }

  /** Starts following; resolves once the first list is in the cache. */
  start(): Promise<void> {
    let markSynced!: () => void;
    this.synced = new Promise((resolve) => (markSynced = resolve));
    this.loop = this.run(markSynced);
    return this.synced;
  }

  list(): T[] {
    if (this.opts.keepObjects === false) throw new Error(`the informer of ${this.opts.resource} keeps no objects (keepObjects: false)`);
    return [...this.cache.values()];
  }

  /**
   * Reads these streams (of this.streams) as they change, the others only when caughtUp asks; all
   * of them when called with none. What the newly followed ones hold is read at once; the loop's
   * blocking read takes them on from its next read (within its 5 s).
   */
  follow(streams?: Iterable<string>): void {
    const next = new Set(streams ?? this.streams);
    if (next.size === this.followed.size && [...next].every((s) => this.followed.has(s))) return;
    const added = [...next].filter((s) => !this.followed.has(s));
    this.followed = next;
    this.endWait?.();
    // A scheduler given a dead one's nodes must see the placements made there meanwhile before it
    // places pods on them, not after the loop's blocking read on its old streams ends.
    if (added.length && this.loop && !this.stopped) {
      // After the first list: a stream read from no cursor would be read from its beginning.
      this.synced.then(() => this.readNow(added)).catch((err) => {
        if (!this.stopped && !isRedisOutage(err)) this.opts.log.warn({ err: (err as Error).message, resource: this.opts.resource }, 'informer could not read the streams it follows now');
      });
    }
  }

  /**
   * Resolves once the cache holds every change the streams held when called: list() then agrees
   * with a list made now. With a deadline, resolves false if it has not by then (true when it has).
   */
  async caughtUp(deadline = Infinity): Promise<boolean> {
    await this.synced;
    const followed = [...this.followed];
    const others = this.streams.filter((s) => !this.followed.has(s));
    const [targets] = await Promise.all([this.opts.store.latestStreamVersions(followed), others.length ? this.readNow(others) : undefined]);
    const behind = () => followed.some((s, i) => (this.cursors.get(s) ?? 0) < targets[i]);
    while (behind() && !this.stopped) {
      if (Date.now() >= deadline) return false;
      this.endWait?.();
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.advanced.delete(done);
          resolve();
        };
        // Relists and reconnects move the cursor without events: looked at again every 100 ms.
        const timer = setTimeout(done, Math.min(100, Math.max(0, deadline - Date.now())));
        this.advanced.add(done);
      });
    }
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.endWait?.();
    this.opts.connection.disconnect();
    this.catchUpConnection?.disconnect();
    await this.loop?.catch(() => undefined);
  }

  private relist(): Promise<void> {
    this.relisting ??= (async () => {
      const { items, resourceVersion } = this.opts.view ? await this.opts.store.listView<T>(this.opts.resource) : await this.opts.store.list<T>(this.opts.resource);
      this.cache.clear();
      this.cachedFrom.clear();
      if (this.opts.keepObjects !== false) for (const item of items) this.cache.set(keyOf(item), item);
      for (const s of this.streams) this.cursors.set(s, Number(resourceVersion));
      this.opts.onRelist?.(items);
      this.opts.onChange?.();
      for (const wake of [...this.advanced]) wake();
    })().finally(() => (this.relisting = undefined));
    return this.relisting;
  }

  private gather(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.endWait?.(), ms);
      this.endWait = () => {
        clearTimeout(timer);
        this.endWait = undefined;
        resolve();
      };
    });
  }

  /**
   * One read of these streams from their cursors (blocking up to blockMs when given) with, in the
   * same round trip, each one's position check (Store.streamPositionReads): events older than the
   * compaction mark may be gone, and the cache could miss a deletion; after a reconnect (a Redis
   * failover, say) a cursor may also be a version lost with the old primary, the cache holding
   * writes the new one never had. Checked on every read, so also for a stream nobody writes after
   * the failover. Applies what it read; returns whether a stream gave a full read (more to come)
   * and whether one can no longer be resumed (a relist is due).
   */
  private async read(connection: Redis, streams: string[], blockMs?: number): Promise<{ events: number; full: boolean; expired: boolean }> {
    const { store, resource, log } = this.opts;
    const from = streams.map((s) => this.cursors.get(s) ?? 0);
    const args = [...streams.map((s) => store.keys.stream(s)), ...from.map((c) => `${c}-0`)];
    let pipeline = blockMs === undefined ? connection.pipeline().xread('COUNT', READ_COUNT, 'STREAMS', ...args) : connection.pipeline().xread('COUNT', READ_COUNT, 'BLOCK', blockMs, 'STREAMS', ...args);
    streams.forEach((s, i) => (pipeline = store.streamPositionReads(pipeline, s, from[i])));
    const replies = ((await pipeline.exec()) ?? []) as [Error | null, unknown][];
    const failed = replies.find(([err]) => err)?.[0];
    if (failed) throw failed;
    for (let i = 0; i < streams.length; i++) {
      try {
        watchPositionVerdict(from[i], replies[1 + 2 * i][1] as string | null, replies[2 + 2 * i][1] as string[] | null);
      } catch (err) {
        if (!(err instanceof ExpiredError)) throw err;
        log.info({ resource, stream: streams[i], err: err.message }, 'informer relisting');
        return { events: 0, full: false, expired: true };
      }
    }
    const reply = (replies[0][1] ?? []) as [string, [string, string[]][]][];
    let full = false;
    let events = 0;
    for (const [key, entries] of reply) {
      full ||= entries.length >= READ_COUNT;
      events += entries.length;
      const stream = streams.find((s) => store.keys.stream(s) === key)!;
      this.apply(stream, entries);
    }
    return { events, full, expired: false };
  }

  /** A stream's entries after its cursor into the cache (both readers may have read the same ones). */
  private apply(stream: string, entries: [string, string[]][]): void {
    const cursor = this.cursors.get(stream) ?? 0;
    const events = entries.map((entry) => this.opts.store.decodeEvent(this.opts.resource, entry)).filter((ev) => ev.rv > cursor);
    if (!events.length) return;
    if (this.opts.keepObjects !== false) {
      const several = this.streams.length > 1;
      for (const ev of events) {
        const key = keyOf(ev.object);
        const cached = several ? this.cachedFrom.get(key) : undefined;
        // Older than what another stream brought, or the leaving half of a move already entered elsewhere.
        if (cached && cached.stream !== stream && (ev.rv < cached.rv || ev.type === 'DELETED')) continue;
        if (ev.type === 'DELETED') {
          this.cache.delete(key);
          this.cachedFrom.delete(key);
        } else {
          this.cache.set(key, ev.object as T);
          if (several) this.cachedFrom.set(key, { stream, rv: ev.rv });
        }
      }
    }
    this.cursors.set(stream, events[events.length - 1].rv);
    this.opts.onEvents?.(events);
    this.opts.onChange?.();
    for (const wake of [...this.advanced]) wake();
  }

  /** Reads the streams not followed up to now, relisting if one cannot be resumed. */
  private async readNow(streams: string[]): Promise<void> {
    this.catchUpConnection ??= this.opts.connection.duplicate();
    for (;;) {
      const { full, expired } = await this.read(this.catchUpConnection, streams);
      if (expired) return this.relist();
      if (!full) return;
    }
  }

  private async run(markSynced: () => void): Promise<void> {
    const { resource, connection, log } = this.opts;
    let needsList = true;
    while (!this.stopped) {
      try {
        if (needsList) {
          await this.relist();
          needsList = false;
          markSynced();
        }
        await this.relisting;
        const { events, full, expired } = await this.read(connection, [...this.followed], 5000);
        if (expired) {
          needsList = true;
          continue;
        }
        if (this.opts.gatherMs && events && !full) await this.gather(this.opts.gatherMs);
      } catch (err) {
        if (this.stopped) return;
        // An outage is reported once by the connections (RedisOutageLog), not once a retry here.
        if (!isRedisOutage(err)) log.warn({ err: (err as Error).message, resource }, 'informer lost its stream; relisting');
        needsList = true;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
