// How the schedulers share a large cluster's nodes out (Omega's and Sparrow's point: schedulers
// that each weigh every placement can add no capacity). The pods' view stream is split by node into
// shards (podViewShard); each live scheduler owns a share of the shards, places the pods of its
// bursts on their nodes, and follows their placements alone as they happen, so that a placement
// costs one scheduler its following, however many run. Every scheduler still follows the common
// stream (nominated pods, pods with inter-pod terms) and reads the rest on demand, before deciding
// a pod whose placement depends on other pods or which fits none of its own nodes.
//
// Ownership is derived, never stored: the live schedulers, sorted, deal the shards out round-robin.
// While a membership change spreads, two schedulers may own a shard for a moment, or none: the
// bind's capacity check keeps that from overcommitting a node, and a pod still lands elsewhere.
import type { Redis } from 'ioredis';
import type { Keys } from '../../shared/keys.ts';
import type { Logger } from '../../shared/log.ts';
import { POD_VIEW_SHARDS } from '../../shared/api/podutil.ts';
import { MIN_NODES_TO_SCORE } from './sampling.ts';

/** How long a scheduler stays a member without renewing (a killed one's shards are dealt out again after this). */
export const MEMBERSHIP_TTL_MS = 10_000;
const RENEW_MS = 2_000;

/**
 * The shards this scheduler owns among the live members, undefined for all of them (it is alone,
 * or not yet a member, or the cluster is small enough that every scheduler weighs every node).
 */
export function ownedShards(members: readonly string[], identity: string, nodes: number): ReadonlySet<number> | undefined {
  const sorted = [...members].sort();
  const index = sorted.indexOf(identity);
  if (index < 0 || sorted.length < 2 || nodes <= MIN_NODES_TO_SCORE) return undefined;
  const shards = new Set<number>();
  for (let s = index; s < POD_VIEW_SHARDS; s += sorted.length) shards.add(s);
  return shards;
}

/** The view streams a scheduler follows as they change: the common one and its own shards' (all with none). */
export function followedStreams(streams: readonly string[], owned: ReadonlySet<number> | undefined, streamOf: (shard: string) => string): string[] | undefined {
  if (!owned) return undefined;
  return [streamOf(''), ...[...owned].map((s) => streamOf(String(s)))].filter((s) => streams.includes(s));
}

/** A scheduler's membership, renewed every 2 s, and the shards it owns. */
export class ShardMembership {
  private owned?: ReadonlySet<number>;
  private timer?: NodeJS.Timeout;
  private members: string[] = [];
  private stopped = false;
  private renewing?: Promise<void>;

  constructor(
    private readonly opts: {
      redis: Redis;
      keys: Keys;
      identity: string;
      log: Logger;
      /** The cluster's node count now. */
      nodes: () => number;
      /** Called when the shards owned change (undefined: all). */
      onChange: (owned: ReadonlySet<number> | undefined) => void;
    },
  ) {}

  ownedShards(): ReadonlySet<number> | undefined {
    return this.owned;
  }

  async start(): Promise<void> {
    await this.renew();
    const tick = () => {
      if (!this.stopped) this.timer = setTimeout(() => void (this.renewing = this.renew()).finally(tick), RENEW_MS);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    // A renewal under way would put the membership back after it is taken away.
    await this.renewing;
    await this.opts.redis.zrem(this.opts.keys.members('scheduler'), this.opts.identity).catch(() => undefined);
  }

  /** Renews the membership (lapse times on Redis' clock, the one all members share), then reads who is live. */
  private async renew(): Promise<void> {
    if (this.stopped) return;
    const { redis, keys, identity, log } = this.opts;
    const key = keys.members('scheduler');
    try {
      const [seconds, micros] = await redis.time();
      const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      const replies = await redis.multi().zadd(key, String(nowMs + MEMBERSHIP_TTL_MS), identity).zremrangebyscore(key, '-inf', String(nowMs)).zrange(key, '0', '-1').exec();
      this.members = (replies?.[2]?.[1] as string[] | undefined) ?? this.members;
    } catch (err) {
      // Kept as it was: the others see this one lapse if Redis stays away, and deal its shards out.
      log.warn({ err: (err as Error).message }, 'scheduler membership not renewed');
    }
    this.update();
  }

  /** Recomputes the shards owned (also when the node count crosses the small-cluster bound). */
  private update(): void {
    const next = ownedShards(this.members, this.opts.identity, this.opts.nodes());
    const same = next === this.owned || (next && this.owned && next.size === this.owned.size && [...next].every((s) => this.owned!.has(s)));
    if (same) return;
    this.opts.log.info({ members: this.members.length, shards: next ? [...next].join(',') : 'all' }, 'scheduler shards');
    this.owned = next;
    this.opts.onChange(next);
  }
}
