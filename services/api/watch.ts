// Watches: a chunked stream of {"type","object"} lines read from a kind's Redis Stream.
// One blocking reader per kind per API process (the WakeHub) wakes every watcher of that kind;
// each watcher then reads the events after its own cursor, so a slow watcher delays nobody.
import type { Response } from 'express';
import type { Redis } from 'ioredis';
import type { KubeObject, WatchEventType } from '../../shared/types.ts';
import type { Store, StoredEvent } from '../../shared/store/store.ts';
import type { Keys } from '../../shared/keys.ts';
import { ExpiredError, toStatus } from '../../shared/errors.ts';
import type { ResourceInfo } from '../../shared/api/resources.ts';
import type { Logger } from '../../shared/log.ts';

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
  ) {}

  /** Resolves when the stream of `resource` may hold events newer than `afterRv`, or after maxWaitMs. */
  wait(resource: string, maxWaitMs: number, signal: AbortSignal): Promise<void> {
    this.ensureReader(resource);
    return new Promise((resolve) => {
      const set = this.waiters.get(resource) ?? new Set();
      this.waiters.set(resource, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
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
          this.log.warn({ err: (err as Error).message, resource }, 'watch reader failed; retrying');
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

export async function serveWatch(store: Store, hub: WakeHub, res: Response, w: WatchRequest, log: Logger): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  res.status(200);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Transfer-Encoding', 'chunked');
  res.setHeader('Cache-Control', 'no-cache, private');
  res.flushHeaders();
  let first = true;
  const send = (type: WatchEventType, object: unknown) => {
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const sendObject = (type: WatchEventType, obj: KubeObject) => {
    send(type, w.render(obj, type, first));
    first = false;
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
        sendObject('ADDED', obj);
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
      try {
        events = await store.eventsAfter(w.resource, cursor, 500);
        const compacted = await store.compactedResourceVersion(w.resource);
        if (cursor < compacted) throw new ExpiredError(String(cursor), String(compacted + 1));
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
      for (const ev of events) {
        cursor = ev.rv;
        const obj = ev.object;
        if (!inScope(obj)) continue;
        const outgoing = translate(ev, w.matches(obj), visible, keyOf(obj), knownStart);
        if (outgoing) sendObject(outgoing, obj);
      }
      if (events.length === 500) continue;
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
    if (!abort.signal.aborted) {
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
