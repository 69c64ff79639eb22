// Reads the per-kind change streams as a Redis consumer group, so N replicas of a worker share
// the events (each event is handled by one of them). An event is acknowledged only after its
// handler has run; the entries of a consumer that died are claimed by another after a short idle
// time. If the group fell behind the stream's retained history (its events were compacted
// away), onGap asks the owner to relist — what an informer does on 410 Gone.
import type { Redis } from 'ioredis';
import { Keys } from '../keys.ts';
import { decodeStreamEntry, type StoredEvent, Store } from './store.ts';
import type { Logger } from '../log.ts';
import { sleep } from '../util.ts';

export interface ChangeFeedOptions {
  store: Store;
  keys: Keys;
  /** A dedicated connection: XREADGROUP blocks it. */
  connection: Redis;
  group: string;
  consumer: string;
  resources: string[];
  handle: (resource: string, event: StoredEvent) => Promise<void>;
  /** Called when events may have been missed: the owner should resync that resource. */
  onGap: (resource: string) => Promise<void>;
  log: Logger;
  claimIdleMs?: number;
}

type StreamReply = [string, [string, string[]][]][] | null;

export class ChangeFeed {
  private stopped = false;
  private loop?: Promise<void>;

  constructor(private readonly opts: ChangeFeedOptions) {}

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
    const streams = this.opts.resources.map((r) => this.opts.keys.stream(r));
    let lastMaintenance = 0;
    while (!this.stopped) {
      try {
        if (Date.now() - lastMaintenance > 5_000) {
          lastMaintenance = Date.now();
          await this.claimAbandoned();
          await this.checkGaps();
        }
        const reply = (await this.opts.connection.xreadgroup(
          'GROUP', this.opts.group, this.opts.consumer,
          'COUNT', 200, 'BLOCK', 1000,
          'STREAMS', ...streams, ...streams.map(() => '>'),
        )) as StreamReply;
        if (reply) await this.deliver(reply);
      } catch (err) {
        if (this.stopped) break;
        const message = err instanceof Error ? err.message : String(err);
        if (message.includes('NOGROUP')) {
          // Redis lost its data (restart without persistence): recreate the groups and relist.
          await this.start().catch(() => undefined);
          return;
        }
        this.opts.log.warn({ err: message, group: this.opts.group }, 'change feed read failed; retrying');
        await sleep(500);
      }
    }
  }

  private async deliver(reply: NonNullable<StreamReply>): Promise<void> {
    for (const [stream, entries] of reply) {
      const resource = this.resourceOf(stream);
      const acked: string[] = [];
      for (const entry of entries) {
        if (!entry[1]) {
          acked.push(entry[0]); // trimmed while pending
          continue;
        }
        await this.opts.handle(resource, decodeStreamEntry(entry));
        acked.push(entry[0]);
      }
      if (acked.length) await this.opts.connection.xack(stream, this.opts.group, ...acked);
    }
  }

  private async claimAbandoned(): Promise<void> {
    for (const resource of this.opts.resources) {
      const stream = this.opts.keys.stream(resource);
      const reply = (await this.opts.connection.xautoclaim(
        stream, this.opts.group, this.opts.consumer, this.opts.claimIdleMs ?? 15_000, '0-0', 'COUNT', 500,
      )) as [string, [string, string[]][], string[]?];
      const entries = reply[1] ?? [];
      if (entries.length) await this.deliver([[stream, entries]]);
    }
  }

  private async checkGaps(): Promise<void> {
    for (const resource of this.opts.resources) {
      const stream = this.opts.keys.stream(resource);
      const groups = (await this.opts.connection.xinfo('GROUPS', stream)) as unknown[][];
      for (const g of groups) {
        const info: Record<string, unknown> = {};
        for (let i = 0; i < g.length; i += 2) info[String(g[i])] = g[i + 1];
        if (info.name !== this.opts.group) continue;
        const delivered = Number(String(info['last-delivered-id']).split('-')[0]);
        const compacted = await this.opts.store.compactedResourceVersion(resource);
        if (delivered < compacted) {
          this.opts.log.warn({ resource, delivered, compacted }, 'change feed fell behind compaction; resyncing');
          await this.opts.connection.xgroup('SETID', stream, this.opts.group, '$');
          await this.opts.onGap(resource);
        }
      }
    }
  }

  private resourceOf(stream: string): string {
    const prefix = this.opts.keys.stream('');
    return stream.slice(prefix.length);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.connection.disconnect();
    await this.loop?.catch(() => undefined);
  }
}
