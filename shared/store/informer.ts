// A read-only cache of one kind that follows its change stream, as client-go's informers do: list,
// then read the stream from the list's resourceVersion; relist when the stream was compacted past
// the cursor or Redis went away. For components that need every object of a kind at hand (a node's
// service proxy and DNS) rather than work items (controllers use consumer groups instead).
import type { Redis } from 'ioredis';
import type { KubeObject } from '../types.ts';
import type { Logger } from '../log.ts';
import { sleep } from '../util.ts';
import { ExpiredError } from '../errors.ts';
import { isRedisOutage } from '../redis.ts';
import type { Store, StoredEvent } from './store.ts';

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
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private cursor = 0;
  /** How many times the connection became ready: each after the first is a reconnect. */
  private readies = 0;
  private stopped = false;
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
      await sleep(10);
    }
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.connection.disconnect();
    await this.loop?.catch(() => undefined);
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = this.opts.view ? await this.opts.store.listView<T>(this.opts.resource) : await this.opts.store.list<T>(this.opts.resource);
    this.cache.clear();
    for (const item of items) this.cache.set(keyOf(item), item);
    this.cursor = Number(resourceVersion);
    this.opts.onRelist?.(items);
    this.opts.onChange?.();
  }

  private async run(markSynced: () => void): Promise<void> {
    const { store, resource, connection, log } = this.opts;
    const stream = store.keys.stream(this.opts.view ? store.keys.viewOf(resource) : resource);
    let needsList = true;
    connection.on('ready', () => this.readies++);
    let readiesChecked = this.readies;
    while (!this.stopped) {
      try {
        if (needsList) {
          await this.relist();
          needsList = false;
          markSynced();
        }
        const reply = (await connection.xread('COUNT', 1000, 'BLOCK', 5000, 'STREAMS', stream, `${this.cursor}-0`)) as [string, [string, string[]][]][] | null;
        // Events older than the compaction mark may be gone: the cache could miss a deletion. After
        // a reconnect (a Redis failover, say) the cursor may also be a version lost with the old
        // primary, the cache holding writes the new one never had: checked then even if nothing
        // came, for a stream nobody writes after the failover.
        const reconnected = this.readies !== readiesChecked;
        if (reply?.[0]?.[1]?.length || reconnected) {
          try {
            await store.checkWatchPosition(resource, this.cursor, { view: this.opts.view });
            readiesChecked = this.readies;
          } catch (err) {
            if (!(err instanceof ExpiredError)) throw err;
            log.info({ resource, err: err.message }, 'informer relisting');
            needsList = true;
            continue;
          }
        }
        if (!reply?.[0]?.[1]?.length) continue;
        const events = reply[0][1].map((entry) => store.decodeEvent(resource, entry));
        for (const ev of events) {
          if (ev.type === 'DELETED') this.cache.delete(keyOf(ev.object));
          else this.cache.set(keyOf(ev.object), ev.object as T);
          this.cursor = ev.rv;
        }
        this.opts.onEvents?.(events);
        this.opts.onChange?.();
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
