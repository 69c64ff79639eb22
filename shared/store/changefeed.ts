// Reads the per-kind change streams as a Redis consumer group, so N replicas of a worker share
// the events (each event is handled by one of them). An event is acknowledged only after its
// handler has run; the entries of a consumer that died are claimed by another after a short idle
// time. If the group fell behind the stream's retained history (its events were compacted
// away), onGap asks the owner to relist — what an informer does on 410 Gone — and the group
// moves past the gap only after that relist, so a relist cut short by a kill is done again. That
// check and the read are one script (read-group.lua), which takes every followed stream at once:
// checked apart, a read could move the group past trimmed events unnoticed; and one call per
// pass, not one per stream, is what keeps a feed of a dozen resources cheap. Every restart of a
// process is a new consumer name; the consumers that died are removed from the groups by the live
// ones once they have been idle long enough, with nothing left pending.
import type { Redis } from 'ioredis';
import { Keys } from '../keys.ts';
import { decodeStreamEntry, type StoredEvent } from './store.ts';
import type { Logger } from '../log.ts';
import { sleep } from '../util.ts';
import { isRedisOutage } from '../redis.ts';
import { scriptsFor, type ScriptRunner } from './scripts.ts';
import { DecryptionError, type Encryption } from './encryption.ts';

interface ChangeFeedBase {
  keys: Keys;
  /** A dedicated connection: XREAD blocks it. */
  connection: Redis;
  group: string;
  consumer: string;
  resources: string[];
  /** Called when events may have been missed: the owner should resync that resource. */
  onGap: (resource: string) => Promise<void>;
  log: Logger;
  claimIdleMs?: number;
  /** A consumer of the group idle this long with nothing pending is taken for dead and removed. */
  consumerExpiryMs?: number;
  /** Decrypts the objects of encrypted kinds (the store's EncryptionConfiguration). */
  encryption?: Encryption;
  /**
   * After a pass that delivered events but read no stream in full (READ_COUNT entries), wait this
   * long before the next read, so that a steady flow reaches the handler in bursts rather than a
   * few events each. Every burst costs the handler and Redis the same fixed share (a script, an
   * acknowledgement, the handler's own round trips), and with N replicas sharing a stream each
   * sees 1/N of its rate: without the wait, the smaller bursts make every event dearer as
   * replicas are added. The first event after a quiet spell is delivered at once (the wait comes
   * after it), and a backlog is read without waiting. 0: no wait.
   */
  gatherMs?: number;
}

/** Exactly one of: one event at a time, or all the events of one read of a stream at once, in order (a scheduler binds a burst of pods together). */
type ChangeFeedHandler =
  | { handle: (resource: string, event: StoredEvent) => Promise<void>; handleBatch?: never }
  | { handleBatch: (resource: string, events: StoredEvent[]) => Promise<void>; handle?: never };

export type ChangeFeedOptions = ChangeFeedBase & ChangeFeedHandler;

type StreamEntry = [id: string, fields: string[] | null];
/** read-group.lua's result for one stream. */
type StreamRead = ['GAP', newest: string] | ['OK', position: string, entries: StreamEntry[]];

/** Entries read from each stream a pass; a pass that reads one in full is behind and reads on at once (see gatherMs). */
const READ_COUNT = 200;

/**
 * How long a consumer with nothing pending may go unseen before it is removed. Redis sees a
 * consumer only when it reads or claims entries, so a live one on a quiet stream may be removed
 * too: harmless, as it holds nothing and its next read brings it back. A dead one's entries are
 * claimed by the live ones first (claimIdleMs), so it is removed with nothing pending.
 */
const CONSUMER_EXPIRY_MS = 10 * 60_000;

/** One consumer of a group, as XINFO CONSUMERS describes it. */
export interface ConsumerInfo {
  name: string;
  pending: number;
  idleMs: number;
}

/**
 * The consumers a live member of a group may remove: idle at least expiryMs, with nothing pending
 * (a dead consumer's entries are claimed by the live ones first), and never the member itself.
 */
export function expiredConsumers(consumers: ConsumerInfo[], self: string, expiryMs: number): string[] {
  return consumers.filter((c) => c.name !== self && c.pending === 0 && c.idleMs >= expiryMs).map((c) => c.name);
}

/** XINFO CONSUMERS' reply: one flat field/value list per consumer. */
function parseConsumers(reply: unknown): ConsumerInfo[] {
  return (reply as unknown[][]).map((flat) => {
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), flat[i + 1]);
    return { name: String(fields.get('name')), pending: Number(fields.get('pending')), idleMs: Number(fields.get('idle')) };
  });
}

export class ChangeFeed {
  private stopped = false;
  private loop?: Promise<void>;
  private readonly scripts: ScriptRunner;

  constructor(private readonly opts: ChangeFeedOptions) {
    this.scripts = scriptsFor(opts.connection);
  }

  async start(): Promise<void> {
    for (const resource of this.opts.resources) {
      try {
        // '$': a new group starts at the present; its owner's initial resync covers the past.
        await this.opts.connection.xgroup('CREATE', this.opts.keys.stream(resource), this.opts.group, '$', 'MKSTREAM');
        await this.opts.onGap(resource);
      } catch (err) {
        if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
      }
    }
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const { keys, resources } = this.opts;
    const streams = resources.map((r) => keys.stream(r));
    // A stream and its compaction marker per resource, as read-group.lua takes them.
    const scriptKeys = resources.flatMap((r) => [keys.stream(r), keys.compacted(r)]);
    let lastMaintenance = 0;
    while (!this.stopped) {
      try {
        if (Date.now() - lastMaintenance > 5_000) {
          lastMaintenance = Date.now();
          await this.takeOverFromDead();
        }
        // One round trip reads every stream (and checks each for a gap).
        const reads = (await this.scripts.run('readGroup', scriptKeys, [this.opts.group, this.opts.consumer, READ_COUNT])) as StreamRead[];
        let busy = false;
        let delivered = false;
        let behind = false;
        const positions: string[] = [];
        for (const [i, resource] of resources.entries()) {
          const read = reads[i];
          if (read[0] === 'GAP') {
            this.opts.log.warn({ resource, group: this.opts.group }, 'change feed fell behind compaction; resyncing');
            await this.opts.onGap(resource);
            // Only once the relist is done: killed before this, the group is still behind and
            // the next read (this consumer's or another's) finds the gap again.
            await this.scripts.run('advanceGroup', [keys.stream(resource)], [this.opts.group, read[1]]);
            busy = true;
            positions.push(read[1]);
            continue;
          }
          const [, position, entries] = read;
          positions.push(position);
          if (!entries.length) continue;
          busy = true;
          delivered = true;
          if (entries.length >= READ_COUNT) behind = true;
          await this.deliver(resource, entries);
        }
        // Nothing new anywhere: wait for the next entry after what the group has had (a plain
        // XREAD, which consumes nothing), then read it through the script.
        if (!busy) await this.opts.connection.xread('COUNT', 1, 'BLOCK', 1000, 'STREAMS', ...streams, ...positions);
        else if (this.opts.gatherMs && delivered && !behind) await sleep(this.opts.gatherMs);
      } catch (err) {
        if (this.stopped) break;
        const message = err instanceof Error ? err.message : String(err);
        if (message.includes('NOGROUP')) {
          // Redis lost its data (restart without persistence): recreate the groups and relist.
          await this.start().catch(() => undefined);
          return;
        }
        // An outage is reported once by the connection (RedisOutageLog), not once a retry here.
        if (!isRedisOutage(err)) this.opts.log.warn({ err: message, group: this.opts.group }, 'change feed read failed; retrying');
        await sleep(500);
      }
    }
  }

  /** Hands a stream's entries to the handler, then acknowledges them all. */
  private async deliver(resource: string, entries: StreamEntry[]): Promise<void> {
    // An entry trimmed while pending has no fields: nothing to handle, only to acknowledge.
    const live = entries.filter((entry): entry is [string, string[]] => Boolean(entry[1]));
    const events: StoredEvent[] = [];
    for (const entry of live) {
      try {
        events.push(decodeStreamEntry(entry, resource, this.opts.encryption));
      } catch (err) {
        // Retrying cannot make it readable (its key is not configured, or it was altered): say so
        // once, and let the periodic resync, which lists what is readable, cover the rest.
        if (!(err instanceof DecryptionError)) throw err;
        this.opts.log.error({ err: err.message, resource, id: entry[0] }, 'change event cannot be read; skipped');
      }
    }
    if (this.opts.handleBatch) {
      await this.opts.handleBatch(resource, events);
    } else {
      for (const event of events) await this.opts.handle(resource, event);
    }
    await this.opts.connection.xack(this.opts.keys.stream(resource), this.opts.group, ...entries.map((entry) => entry[0]));
  }

  /**
   * Claims the entries dead consumers read but never acknowledged, and removes the consumers that
   * have been dead long enough, on every stream.
   */
  private async takeOverFromDead(): Promise<void> {
    const { connection, keys, group, consumer, resources } = this.opts;
    // One round trip for every stream: the controller manager follows a dozen.
    const pipeline = connection.pipeline();
    for (const resource of resources) {
      pipeline.xautoclaim(keys.stream(resource), group, consumer, this.opts.claimIdleMs ?? 15_000, '0-0', 'COUNT', 500);
      pipeline.xinfo('CONSUMERS', keys.stream(resource), group);
    }
    const replies = (await pipeline.exec()) ?? [];
    const expiryMs = this.opts.consumerExpiryMs ?? CONSUMER_EXPIRY_MS;
    const removed = new Map<string, string[]>();
    for (const [i, resource] of resources.entries()) {
      const [err, reply] = replies[2 * i] ?? [new Error('no reply')];
      if (err) throw err;
      const entries = (reply as [string, StreamEntry[], string[]?])[1] ?? [];
      if (entries.length) await this.deliver(resource, entries);
      const [infoErr, info] = replies[2 * i + 1] ?? [new Error('no reply')];
      if (infoErr) continue;
      for (const dead of expiredConsumers(parseConsumers(info), consumer, expiryMs)) {
        // The script checks again, atomically: the consumer may have read something since.
        if (await this.scripts.run('deleteIdleConsumer', [keys.stream(resource)], [group, dead, expiryMs])) {
          removed.set(dead, [...(removed.get(dead) ?? []), resource]);
        }
      }
    }
    for (const [dead, streams] of removed) this.opts.log.info({ group, consumer: dead, resources: streams }, 'removed a dead consumer from the group');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.connection.disconnect();
    await this.loop?.catch(() => undefined);
  }
}
