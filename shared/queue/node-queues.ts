// Producers for the per-node pod queues: a bound pod's key goes to its node's queue, where that
// node's agent reconciles it. Triggers collapse by key exactly as in WorkQueue.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Keys, QUEUES } from '../keys.ts';
import { enqueueKey } from './workqueue.ts';

export class NodeQueues {
  private readonly queues = new Map<string, Queue>();
  private readonly connection: Redis;

  constructor(
    private readonly keys: Keys,
    private readonly redis: Redis,
    connect: () => Redis,
  ) {
    this.connection = connect();
  }

  async add(node: string, podKey: string): Promise<void> {
    const name = QUEUES.node(node);
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.keys.bullPrefix });
      this.queues.set(name, queue);
    }
    await enqueueKey(queue, this.redis, this.keys, podKey);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.connection.disconnect();
  }
}
