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
   * of its objects: the cache then holds the views of the objects that have one.
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

/** Events one read takes at most. */
const READ_COUNT = 1000;

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private cursor = 0;
  private stopped = false;
  /** Ends the current gathering wait early (caughtUp, stop). */
  private endWait?: () => void;
  /** Waiters of caughtUp, woken whenever the cursor moves on. */
  private readonly advanced = new Set<() => void>();
  private loop?: Promise<void>;
  private synced!: Promise<void>;

  constructor(private readonly opts: InformerOptions) {}

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
   * Resolves once the cache holds every change the stream held when called: list() then agrees with
   * a list made now. With a deadline, resolves false if it has not by then (true when it has).
   */
  async caughtUp(deadline = Infinity): Promise<boolean> {
    await this.synced;
    const target = await this.opts.store.latestResourceVersion(this.opts.resource, { view: this.opts.view });
    while (this.cursor < target && !this.stopped) {
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
    await this.loop?.catch(() => undefined);
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = this.opts.view ? await this.opts.store.listView<T>(this.opts.resource) : await this.opts.store.list<T>(this.opts.resource);
    this.cache.clear();
    if (this.opts.keepObjects !== false) for (const item of items) this.cache.set(keyOf(item), item);
    this.cursor = Number(resourceVersion);
    this.opts.onRelist?.(items);
    this.opts.onChange?.();
    for (const wake of [...this.advanced]) wake();
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

  private async run(markSynced: () => void): Promise<void> {
    const { store, resource, connection, log } = this.opts;
    const stream = store.keys.stream(this.opts.view ? store.keys.viewOf(resource) : resource);
    let needsList = true;
    while (!this.stopped) {
      try {
        if (needsList) {
          await this.relist();
          needsList = false;
          markSynced();
        }
        // The position check rides behind the read, in its round trip (Store.watchPositionReads):
        // events older than the compaction mark may be gone, and the cache could miss a deletion;
        // after a reconnect (a Redis failover, say) the cursor may also be a version lost with the
        // old primary, the cache holding writes the new one never had. Checked on every read, so
        // also for a stream nobody writes after the failover.
        const from = this.cursor;
        const reads = store.watchPositionReads(connection.pipeline().xread('COUNT', READ_COUNT, 'BLOCK', 5000, 'STREAMS', stream, `${from}-0`), resource, from, { view: this.opts.view });
        const [[readErr, read], [compactedErr, compacted], [lostErr, lost]] = ((await reads.exec()) ?? []) as [Error | null, unknown][];
        const failed = readErr ?? compactedErr ?? lostErr;
        if (failed) throw failed;
        const reply = read as [string, [string, string[]][]][] | null;
        try {
          watchPositionVerdict(from, compacted as string | null, lost as string[] | null);
        } catch (err) {
          if (!(err instanceof ExpiredError)) throw err;
          log.info({ resource, err: err.message }, 'informer relisting');
          needsList = true;
          continue;
        }
        if (!reply?.[0]?.[1]?.length) continue;
        const events = reply[0][1].map((entry) => store.decodeEvent(resource, entry));
        if (this.opts.keepObjects !== false) {
          for (const ev of events) {
            if (ev.type === 'DELETED') this.cache.delete(keyOf(ev.object));
            else this.cache.set(keyOf(ev.object), ev.object as T);
          }
        }
        this.cursor = events[events.length - 1].rv;
        this.opts.onEvents?.(events);
        this.opts.onChange?.();
        for (const wake of [...this.advanced]) wake();
        if (this.opts.gatherMs && events.length < READ_COUNT) await this.gather(this.opts.gatherMs);
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
