// Reads the per-kind change streams as a Redis consumer group, so N replicas of a worker share
// the events (each event is handled by one of them). An event is acknowledged only after its
// handler has run; the entries of a consumer that died are claimed by another after a short idle
// time. If the group fell behind the stream's retained history (its events were compacted
// away), onGap asks the owner to relist — what an informer does on 410 Gone. That check and the
// read are one script (read-group.lua): checked apart, a read could move the group past
// trimmed events unnoticed.
import type { Redis } from 'ioredis';
import { Keys } from '../keys.ts';
import { decodeStreamEntry, type StoredEvent } from './store.ts';
import type { Logger } from '../log.ts';
import { sleep } from '../util.ts';
import { scriptsFor, type ScriptRunner } from './scripts.ts';

export interface ChangeFeedOptions {
  keys: Keys;
  /** A dedicated connection: XREADGROUP blocks it. */
  connection: Redis;
  group: string;
  consumer: string;
  resources: string[];
  /** One event at a time; or, with handleBatch, all the events of one read of a stream at once, in order (a scheduler binds a burst of pods together). */
  handle?: (resource: string, event: StoredEvent) => Promise<void>;
  handleBatch?: (resource: string, events: StoredEvent[]) => Promise<void>;
  /** Called when events may have been missed: the owner should resync that resource. */
  onGap: (resource: string) => Promise<void>;
  log: Logger;
  claimIdleMs?: number;
}

type StreamReply = [string, [string, string[]][]][] | null;
type GroupRead = ['GAP'] | ['OK', string, [string, string[]][]];

const READ_COUNT = 200;

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
    const streams = this.opts.resources.map((r) => this.opts.keys.stream(r));
    let lastMaintenance = 0;
    while (!this.stopped) {
      try {
        if (Date.now() - lastMaintenance > 5_000) {
          lastMaintenance = Date.now();
          await this.claimAbandoned();
        }
        let busy = false;
        const positions: string[] = [];
        for (const resource of this.opts.resources) {
          const stream = this.opts.keys.stream(resource);
          const read = (await this.scripts.run('readGroup', [stream, this.opts.keys.compacted(resource)], [this.opts.group, this.opts.consumer, READ_COUNT])) as GroupRead;
          if (read[0] === 'GAP') {
            this.opts.log.warn({ resource, group: this.opts.group }, 'change feed fell behind compaction; resyncing');
            await this.opts.onGap(resource);
            busy = true;
            positions.push('$');
            continue;
          }
          const entries = read[2];
          positions.push(entries.length ? entries[entries.length - 1][0] : read[1]);
          if (!entries.length) continue;
          busy = true;
          await this.deliver([[stream, entries]]);
        }
        // Nothing new anywhere: wait for the next entry after what the group has had (a plain
        // XREAD, which consumes nothing), then read it through the script.
        if (!busy) await this.opts.connection.xread('COUNT', 1, 'BLOCK', 1000, 'STREAMS', ...streams, ...positions);
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
      if (this.opts.handleBatch) {
        // Entries trimmed while pending have no fields: nothing to handle, only to acknowledge.
        await this.opts.handleBatch(resource, entries.filter((entry) => entry[1]).map(decodeStreamEntry));
        acked.push(...entries.map((entry) => entry[0]));
      }
      for (const entry of this.opts.handleBatch ? [] : entries) {
        if (!entry[1]) {
          acked.push(entry[0]); // trimmed while pending
          continue;
        }
        await this.opts.handle!(resource, decodeStreamEntry(entry));
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
