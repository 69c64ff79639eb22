// A few objects of a few kinds that every writing process needs whole and current (CRDs, webhook
// configurations, admission policies): a blocking read of their change streams wakes on each
// write, then they are listed again whole (they are few) and handed on only when one changed.
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.ts';
import type { Logger } from '../log.ts';
import type { KubeObject } from '../types.ts';
import type { Store } from './store.ts';
import { isRedisOutage } from '../redis.ts';
import { sleep } from '../util.ts';

export interface SmallKindsFollowerOptions {
  store: Store;
  /** A dedicated connection: XREAD blocks it, and the quiet-period checks stay off the store's. */
  connection: Redis;
  keys: Keys;
  log: Logger;
  resources: string[];
  /** For the log: what is followed. */
  what: string;
  /** The objects of each resource, in the order of resources, whenever any of them changed. */
  onChange: (lists: KubeObject[][]) => void;
}

export class SmallKindsFollower {
  private stopped = false;
  private loop?: Promise<void>;
  /** What was handed on last, by kind, name and resourceVersion: an unchanged list hands on nothing. */
  private seen = '';

  constructor(private readonly opts: SmallKindsFollowerOptions) {}

  /** Hands on the objects stored now, then follows their changes. */
  async start(): Promise<void> {
    const positions = await this.streamEnds();
    await this.relist();
    this.loop = this.follow(positions);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.connection.disconnect();
    await this.loop?.catch(() => undefined);
  }

  private streamEnds(): Promise<string[]> {
    return Promise.all(this.opts.resources.map(async (r) => ((await this.opts.connection.xrevrange(this.opts.keys.stream(r), '+', '-', 'COUNT', 1)) as [string, string[]][])[0]?.[0] ?? '0-0'));
  }

  private async relist(): Promise<void> {
    const lists = await Promise.all(this.opts.resources.map(async (r) => (await this.opts.store.list(r)).items));
    const fingerprint = lists.flat().map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort().join(',');
    if (fingerprint === this.seen) return;
    this.opts.onChange(lists);
    this.seen = fingerprint;
  }

  private async follow(from: string[]): Promise<void> {
    const positions = [...from];
    const streams = this.opts.resources.map((r) => this.opts.keys.stream(r));
    // After a failure the objects are listed again: a change may have come meanwhile.
    let missed = false;
    while (!this.stopped) {
      try {
        if (missed) {
          await this.relist();
          missed = false;
        }
        const reply = (await this.opts.connection.xread('COUNT', 100, 'BLOCK', 5000, 'STREAMS', ...streams, ...positions)) as [string, [string, string[]][]][] | null;
        for (const [stream, entries] of reply ?? []) if (entries.length) positions[streams.indexOf(stream)] = entries[entries.length - 1][0];
        if (reply?.length) {
          await this.relist();
        } else {
          // A quiet period: streams recreated under us (their last entry is not the one we read) still converge.
          const ends = await this.streamEnds();
          if (ends.some((end, i) => end !== positions[i])) {
            positions.splice(0, positions.length, ...ends);
            await this.relist();
          }
        }
      } catch (err) {
        if (this.stopped) return;
        missed = true;
        if (!isRedisOutage(err)) this.opts.log.warn({ err: (err as Error).message }, `following ${this.opts.what} failed; retrying`);
        await sleep(500);
      }
    }
  }
}
