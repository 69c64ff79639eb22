// Watches: a chunked stream of {"type","object"} lines read from a kind's Redis Stream.
// One blocking reader per kind per API process (the WakeHub) wakes every watcher of that kind;
// each watcher then reads the events after its own cursor, so a slow watcher delays nobody.
// A watcher reads from Redis only as fast as its client takes what it was sent, so the events a
// slow client has not taken wait in Redis, not in this process; a client that takes nothing for
// the stall timeout is cut off (Kubernetes: "Forcing watch close due to unresponsive consumer"),
// and re-watches from its last resourceVersion.
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import type { KubeObject, WatchEventType } from '../../shared/types.ts';
import type { Store, StoredEvent } from '../../shared/store/store.ts';
import type { Keys } from '../../shared/keys.ts';
import { ExpiredError, toStatus } from '../../shared/errors.ts';
import type { ResourceInfo } from '../../shared/api/resources.ts';
import type { Logger } from '../../shared/log.ts';
import { isRedisOutage } from '../../shared/redis.ts';

export interface WatchLimits {
  /** A watch whose client has taken none of its pending data for this long is closed. */
  stallTimeoutMs: number;
}

/** Wakes watchers of a resource when its stream grows. */
export class WakeHub {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly readers = new Map<string, Promise<void>>();
  private stopped = false;
  private readonly connections: Redis[] = [];

  /** True once the server is shutting down: watches end cleanly so clients resume elsewhere. */
  get closing(): boolean {
    return this.stopped;
  }

  constructor(
    private readonly keys: Keys,
    private readonly connect: () => Redis,
    private readonly log: Logger,
    readonly limits: WatchLimits = { stallTimeoutMs: 30_000 },
  ) {}

  /** Resolves when the stream of `resource` may hold new events, when signal aborts, or after maxWaitMs. */
  wait(resource: string, maxWaitMs: number, signal: AbortSignal): Promise<void> {
    this.ensureReader(resource);
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const set = this.waiters.get(resource) ?? new Set();
      this.waiters.set(resource, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        // A watch waits thousands of times on one signal: each wait takes its listener away again.
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      signal.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  private ensureReader(resource: string): void {
    if (this.readers.has(resource)) return;
    const connection = this.connect();
    this.connections.push(connection);
    const stream = this.keys.stream(resource);
    const loop = (async () => {
      let lastId = '$';
      while (!this.stopped) {
        try {
          const reply = (await connection.xread('COUNT', 1000, 'BLOCK', 5000, 'STREAMS', stream, lastId)) as [string, [string, string[]][]][] | null;
          if (reply && reply[0][1].length) {
            const entries = reply[0][1];
            lastId = entries[entries.length - 1][0];
            for (const wake of [...(this.waiters.get(resource) ?? [])]) wake();
          }
        } catch (err) {
          if (this.stopped) return;
          // An outage is reported once by the connection (RedisOutageLog), not once a retry here.
          if (!isRedisOutage(err)) this.log.warn({ err: (err as Error).message, resource }, 'watch reader failed; retrying');
          // Wake everyone so they re-read from Redis themselves once it is back.
          for (const wake of [...(this.waiters.get(resource) ?? [])]) wake();
          await new Promise((r) => setTimeout(r, 500));
          lastId = '$';
        }
      }
    })();
    this.readers.set(resource, loop);
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const c of this.connections) c.disconnect();
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
  }
}

export interface WatchRequest {
  resource: ResourceInfo;
  namespace?: string;
  resourceVersion?: string;
  timeoutSeconds: number;
  allowBookmarks: boolean;
  matches: (obj: KubeObject) => boolean;
  /** Turns each object into what the client asked for (the object itself, or a Table). */
  render: (obj: KubeObject, type: WatchEventType, first: boolean) => unknown;
}

const BOOKMARK_INTERVAL_MS = 30_000;
/** How long a watch waits for an unreachable store before it ends (cleanly) instead. */
const STORE_OUTAGE_MS = 20_000;
/** About how many bytes of events a watcher reads from Redis at once, and the most events. */
const BATCH_BYTES = 1024 * 1024;
const MAX_BATCH = 500;
/** Before any event was sent, the sizes are unknown: a first read this small is cheap whatever they are. */
const FIRST_BATCH = 20;

/**
 * How many events to read next: about BATCH_BYTES of them at the average size of the events sent
 * so far, so a watcher catching up on large objects never holds hundreds of megabytes at once.
 */
export function nextBatchSize(sentBytes: number, sentEvents: number): number {
  if (sentEvents === 0 || sentBytes === 0) return FIRST_BATCH;
  return Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_BYTES / (sentBytes / sentEvents))));
}

/**
 * Resolves true once the client has taken what res holds (at once if it had), false if it took
 * none of it for stallMs, or if signal aborted first.
 */
function drained(res: Response, stallMs: number, signal: AbortSignal): Promise<boolean> {
  if (!res.writableNeedDrain) return Promise.resolve(true);
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onDrain = () => finish(true);
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(false), stallMs);
    res.on('drain', onDrain);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export async function serveWatch(store: Store, hub: WakeHub, res: Response, w: WatchRequest, log: Logger): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  res.status(200);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Transfer-Encoding', 'chunked');
  res.setHeader('Cache-Control', 'no-cache, private');
  res.flushHeaders();
  let first = true;
  let sentBytes = 0;
  let sentEvents = 0;
  /** Writes one event; false when the client has not taken everything sent so far (see keptUp). */
  const send = (type: WatchEventType, object: unknown): boolean => {
    const line = `${JSON.stringify({ type, object })}\n`;
    sentBytes += Buffer.byteLength(line);
    sentEvents++;
    return res.write(line);
  };
  const sendObject = (type: WatchEventType, obj: KubeObject): boolean => {
    const room = send(type, w.render(obj, type, first));
    first = false;
    return room;
  };
  /** Waits until the client has taken what it was sent; false when the watch is over (the client stalled, left, or timed out). */
  const keptUp = async (): Promise<boolean> => {
    if (await drained(res, hub.limits.stallTimeoutMs, abort.signal)) return true;
    if (!abort.signal.aborted) {
      log.warn({ resource: w.resource.plural, stalledMs: hub.limits.stallTimeoutMs, unsentBytes: res.writableLength }, 'watch closed: the client is not reading its events');
      // Not end(): the end would wait behind the data the client does not take, and so would
      // the connection and its buffers.
      res.destroy();
    }
    return false;
  };
  const deadline = Date.now() + w.timeoutSeconds * 1000;
  const timer = setTimeout(() => abort.abort(), w.timeoutSeconds * 1000);
  // Which objects this watcher currently sees: an object that stops matching the selectors is
  // reported as DELETED, one that starts matching as ADDED, as Kubernetes' watch cache does.
  const visible = new Set<string>();
  const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const inScope = (o: KubeObject) => !w.namespace || o.metadata.namespace === w.namespace;
  try {
    let cursor: number;
    const rv = w.resourceVersion;
    const knownStart = !rv || rv === '0';
    if (knownStart) {
      const listed = await store.list(w.resource, w.namespace);
      for (const obj of listed.items) {
        if (!w.matches(obj)) continue;
        visible.add(keyOf(obj));
        if (!sendObject('ADDED', obj) && !(await keptUp())) return;
      }
      cursor = Number(listed.resourceVersion);
    } else {
      cursor = Number(rv);
      if (!Number.isFinite(cursor)) throw new ExpiredError(rv, 'invalid');
    }
    let lastBookmark = Date.now();
    let failingSince = 0;
    while (!abort.signal.aborted && !hub.closing) {
      let events: StoredEvent[];
      const batch = nextBatchSize(sentBytes, sentEvents);
      try {
        events = await store.eventsAfter(w.resource, cursor, batch);
        // Compacted past the cursor, or the cursor was lost with a failed-over primary: 410.
        await store.checkWatchPosition(w.resource, cursor);
        failingSince = 0;
      } catch (err) {
        if (err instanceof ExpiredError) throw err;
        // Redis unreachable (restarting, failing over): keep the stream open and retry, since the
        // events are still there when it is back; after a while end cleanly so the client
        // re-watches from its last resourceVersion rather than relisting on an error.
        failingSince ||= Date.now();
        if (Date.now() - failingSince > STORE_OUTAGE_MS) {
          log.warn({ err: (err as Error).message, resource: w.resource.plural }, 'watch ended: the store is unreachable');
          break;
        }
        await hub.wait(w.resource.plural, 500, abort.signal);
        continue;
      }
      let full = false;
      for (const ev of events) {
        cursor = ev.rv;
        const obj = ev.object;
        if (!inScope(obj)) continue;
        const outgoing = translate(ev, w.matches(obj), visible, keyOf(obj), knownStart);
        // The client has not taken what it was sent: the rest of this batch stays in Redis, read
        // again from the cursor once it has.
        if (outgoing && !sendObject(outgoing, obj)) {
          full = true;
          break;
        }
      }
      if (full) {
        if (!(await keptUp())) return;
        continue;
      }
      if (events.length === batch) continue;
      if (w.allowBookmarks && Date.now() - lastBookmark > BOOKMARK_INTERVAL_MS) {
        lastBookmark = Date.now();
        send('BOOKMARK', {
          kind: w.resource.kind,
          apiVersion: w.resource.group ? `${w.resource.group}/${w.resource.version}` : w.resource.version,
          metadata: { resourceVersion: String(cursor) },
        });
      }
      await hub.wait(w.resource.plural, Math.min(5000, Math.max(0, deadline - Date.now())), abort.signal);
    }
  } catch (err) {
    if (!abort.signal.aborted && !res.destroyed) {
      if (!(err instanceof ExpiredError)) log.warn({ err: (err as Error).message }, 'watch ended with an error');
      send('ERROR', toStatus(err));
    }
  } finally {
    clearTimeout(timer);
    res.end();
  }
}

/**
 * The event this watcher should see. With a known starting set (the watch began with a list), an
 * object that starts matching is ADDED; started from a resourceVersion, we cannot know whether the
 * client saw it before, so it stays MODIFIED.
 */
function translate(ev: StoredEvent, matches: boolean, visible: Set<string>, key: string, knownStart: boolean): WatchEventType | undefined {
  const was = visible.has(key);
  if (ev.type === 'DELETED') {
    visible.delete(key);
    return matches || was ? 'DELETED' : undefined;
  }
  if (matches) {
    visible.add(key);
    if (ev.type === 'MODIFIED' && !was && knownStart) return 'ADDED';
    return ev.type;
  }
  if (was) {
    visible.delete(key);
    return 'DELETED';
  }
  return undefined;
}
