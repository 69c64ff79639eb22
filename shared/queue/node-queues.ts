// Producers for the per-node pod queues: a bound pod's key goes to its node's queue, where that
// node's agent reconciles it. Triggers collapse by key exactly as in WorkQueue. A node hosted with
// many others in one process (simulated nodes) is routed, through keys.nodeQueueRoutes, to that
// process's shared queue under the key `<node>|<pod key>`.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Keys, QUEUES, hostedPodKey } from '../keys.ts';
import { enqueueKey } from './workqueue.ts';
import { inBatches } from '../util.ts';

/** How long a node's route is trusted before it is read again (routes change only on re-hosting). */
const ROUTE_TTL_MS = 5_000;

export class NodeQueues {
  private readonly queues = new Map<string, Queue>();
  private readonly routes = new Map<string, { queue: string | null; at: number }>();
  private readonly connection: Redis;

  constructor(
    private readonly keys: Keys,
    private readonly redis: Redis,
    connect: () => Redis,
  ) {
    this.connection = connect();
  }

  async add(node: string, podKey: string): Promise<void> {
    const hosted = await this.route(node);
    const name = hosted ?? QUEUES.node(node);
    let queue = this.queues.get(name);
    if (!queue) {
      // One queue a node, made as a node is first met: without skipVersionCheck each would send
      // a full INFO (BullMQ's version check) on the shared connection, which the scheduling queue's
      // check has made already; with N schedulers each meeting every node, N times a node count.
      queue = new Queue(name, { connection: this.connection, prefix: this.keys.bullPrefix, skipVersionCheck: true });
      // Its errors are its connection's, which reports them (RedisOutageLog); without a listener
      // BullMQ would print each with a stack.
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    await enqueueKey(queue, this.redis, this.keys, hosted ? hostedPodKey(node, podKey) : podKey);
  }

  /** Many at once (pod key → node), a few hundred in flight. */
  async addAll(podNodes: Map<string, string>): Promise<void> {
    await this.readRoutes(new Set(podNodes.values()));
    await inBatches(podNodes, 200, ([podKey, node]) => this.add(node, podKey));
  }

  private async route(node: string): Promise<string | null> {
    const cached = this.freshRoute(node, Date.now());
    if (cached) return cached.queue;
    const queue = await this.redis.hget(this.keys.nodeQueueRoutes, node);
    this.routes.set(node, { queue, at: Date.now() });
    return queue;
  }

  /** The cached route of a node, if read within ROUTE_TTL_MS of now. */
  private freshRoute(node: string, now: number): { queue: string | null } | undefined {
    const cached = this.routes.get(node);
    return cached && now - cached.at < ROUTE_TTL_MS ? cached : undefined;
  }

  /**
   * The stale routes among these nodes in one round trip. A scheduler hands over the pods bound by
   * every scheduler (the feed's share it reads), spread over every node, so with N schedulers each
   * meets a node N times less often and finds its route stale N times as often: one read a node
   * would grow the round trips a pod with N.
   */
  private async readRoutes(nodes: Set<string>): Promise<void> {
    const now = Date.now();
    const stale = [...nodes].filter((node) => !this.freshRoute(node, now));
    for (let i = 0; i < stale.length; i += 1000) {
      const chunk = stale.slice(i, i + 1000);
      const queues = await this.redis.hmget(this.keys.nodeQueueRoutes, ...chunk);
      chunk.forEach((node, j) => this.routes.set(node, { queue: queues[j], at: now }));
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.connection.disconnect();
  }
}
