// A keyed reconcile queue on BullMQ, with controller-runtime's guarantees across any number of
// processes:
//  - a work item is only a key; triggers for a key collapse into one waiting job
//    (jobId = key@epoch), so a burst of events costs one reconcile;
//  - a trigger that arrives while the key is being reconciled is never lost: the epoch advances
//    when a worker starts, so the next trigger makes a new job rather than colliding with the
//    active one;
//  - a key is never reconciled by two workers at once: a per-key lock, renewed while held,
//    expiring soon after a killed worker's last renewal.
// What a reconcile asks for next is its result: done, requeue after N ms, or an error (retried
// with capped exponential backoff), or a PermanentError (dropped, logged).
import { randomBytes } from 'node:crypto';
import { Queue, Worker, DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { Keys } from '../keys.ts';
import { scriptsFor, type ScriptRunner } from '../store/scripts.ts';
import { isRedisOutage } from '../redis.ts';
import type { Logger } from '../log.ts';
import { reconcileOutcomes, reportQueueDepth, workqueueAdds, workqueueKeyBusy, workqueueQueueDuration, workqueueRetries, workqueueWorkDuration } from '../metrics.ts';
import { inBatches } from '../util.ts';

/** priority: BullMQ's, 1 first (see WorkQueue.add). */
export type ReconcileResult = void | { requeueAfterMs: number; priority?: number };

/** A key to add, with the queue priority it should run at. */
export type KeyToAdd = string | { key: string; priority?: number };

/** A failure that retrying cannot fix (bad spec, ...): the key is not retried until it changes. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export interface WorkQueueOptions {
  name: string;
  keys: Keys;
  /** For epochs and locks. */
  redis: Redis;
  /** BullMQ wants its own connections (the worker's is blocking). */
  connect: () => Redis;
  reconcile: (key: string, attempt: number) => Promise<ReconcileResult>;
  log: Logger;
  concurrency?: number;
  lockTtlMs?: number;
  maxBackoffMs?: number;
}

const BASE_BACKOFF_MS = 200;

function jobIdFor(key: string, epoch: string, suffix = ''): string {
  // BullMQ forbids ':' in custom ids.
  return `${key.replaceAll(':', '%3A')}@${epoch}${suffix}`;
}

/**
 * Adds a reconcile job for key to queue, collapsing with any waiting job for the same key. Used by
 * WorkQueue and by producers that feed another component's queue (the per-node pod queues).
 */
export async function enqueueKey(queue: Queue, redis: Redis, keys: Keys, key: string, delayMs = 0, priority?: number): Promise<void> {
  const epoch = (await redis.get(keys.workEpoch(queue.name, key))) ?? '0';
  // A delayed request must not absorb a prompt one (or the prompt one would wait), so they differ.
  const jobId = jobIdFor(key, epoch, delayMs > 0 ? '~later' : '');
  workqueueAdds.inc({ name: queue.name });
  await queue.add('reconcile', { key }, {
    jobId,
    delay: delayMs > 0 ? delayMs : undefined,
    priority,
    attempts: 30,
    backoff: { type: 'capped' },
    removeOnComplete: true,
    removeOnFail: true,
  });
}

export class WorkQueue {
  readonly queue: Queue;
  private worker?: Worker;
  private readonly scripts: ScriptRunner;
  private readonly lockTtlMs: number;
  private readonly queueConnection: Redis;

  constructor(private readonly opts: WorkQueueOptions) {
    this.scripts = scriptsFor(opts.redis);
    this.lockTtlMs = opts.lockTtlMs ?? 15_000;
    this.queueConnection = opts.connect();
    this.queue = new Queue(opts.name, { connection: this.queueConnection, prefix: opts.keys.bullPrefix });
    // Without a listener BullMQ prints each of its connection's errors with a stack.
    this.queue.on('error', (err) => this.reportError(err));
  }

  /** BullMQ's errors; an outage is reported once by the connections themselves (RedisOutageLog). */
  private reportError(err: Error): void {
    if (!isRedisOutage(err)) this.opts.log.warn({ err: err.message, queue: this.opts.name }, 'work queue error');
  }

  /**
   * Asks for key to be reconciled (after delayMs). Cheap to call often: triggers collapse. With a
   * priority (1 runs first, up to 2,097,152) waiting keys run in that order; a queue that uses
   * priorities should give every key one, as BullMQ runs keys without one before all others.
   */
  add(key: string, delayMs = 0, priority?: number): Promise<void> {
    return enqueueKey(this.queue, this.opts.redis, this.opts.keys, key, delayMs, priority);
  }

  async addAll(keys: Iterable<KeyToAdd>): Promise<void> {
    await inBatches(keys, 200, (k) => (typeof k === 'string' ? this.add(k) : this.add(k.key, 0, k.priority)));
  }

  /**
   * Drops every key lock of this queue. Only for a queue with a single consumer process (a node's
   * own queue): a restarted agent knows the previous holder is dead and need not wait out the TTL.
   */
  async clearLocks(): Promise<void> {
    let cursor = '0';
    do {
      const [next, found] = await this.opts.redis.scan(cursor, 'MATCH', this.opts.keys.workLock(this.opts.name, '*'), 'COUNT', 500);
      cursor = next;
      if (found.length) await this.opts.redis.del(...found);
    } while (cursor !== '0');
  }

  start(): void {
    const maxBackoff = this.opts.maxBackoffMs ?? 60_000;
    this.worker = new Worker(this.opts.name, (job, token) => this.process(job, token), {
      connection: this.opts.connect(),
      prefix: this.opts.keys.bullPrefix,
      concurrency: this.opts.concurrency ?? 8,
      // A killed worker's jobs are taken over after lockDuration; keep it short.
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 1000,
      settings: {
        backoffStrategy: (attemptsMade: number) => Math.min(BASE_BACKOFF_MS * 2 ** Math.max(0, attemptsMade - 1), maxBackoff),
      },
    });
    this.worker.on('error', (err) => this.reportError(err));
    // Keys waiting to be worked on (not those delayed until later, as client-go's depth leaves out its delaying queue's).
    reportQueueDepth(this.opts.name, async () => {
      const counts = await this.queue.getJobCounts('waiting', 'prioritized');
      return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    });
  }

  private async process(job: Job, token: string | undefined): Promise<void> {
    const key = job.data.key as string;
    const lockKey = this.opts.keys.workLock(this.opts.name, key);
    const lockToken = randomBytes(8).toString('hex');
    const taken = await this.opts.redis.set(lockKey, lockToken, 'PX', this.lockTtlMs, 'NX');
    if (!taken) {
      // Another worker holds this key: come back shortly rather than run it twice at once.
      workqueueKeyBusy.inc({ name: this.opts.name });
      await job.moveToDelayed(Date.now() + 100 + Math.floor(Math.random() * 200), token);
      throw new DelayedError();
    }
    const renew = setInterval(() => {
      this.scripts.run('extendLock', [lockKey], [lockToken, this.lockTtlMs]).catch(() => undefined);
    }, Math.max(1000, Math.floor(this.lockTtlMs / 3)));
    const started = Date.now();
    // From when the job became due (its delay over) to now; a retry's wait counts from its first add.
    workqueueQueueDuration.observe({ name: this.opts.name }, Math.max(0, started - job.timestamp - (job.delay ?? 0)) / 1000);
    const reconcileId = randomBytes(4).toString('hex');
    const log = this.opts.log.child({ queue: this.opts.name, key, reconcileId });
    try {
      await this.opts.redis.incr(this.opts.keys.workEpoch(this.opts.name, key));
      const result = await this.opts.reconcile(key, job.attemptsMade);
      if (result && result.requeueAfterMs > 0) {
        await this.add(key, result.requeueAfterMs, result.priority);
        reconcileOutcomes.inc({ queue: this.opts.name, result: 'requeue' });
      } else {
        reconcileOutcomes.inc({ queue: this.opts.name, result: 'success' });
      }
      log.debug({ ms: Date.now() - started }, 'reconciled');
    } catch (err) {
      reconcileOutcomes.inc({ queue: this.opts.name, result: 'error' });
      workqueueRetries.inc({ name: this.opts.name });
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof PermanentError) {
        log.warn({ err: message }, 'reconcile failed for good');
        throw new UnrecoverableError(message);
      }
      log.info({ err: message, attempt: job.attemptsMade }, 'reconcile failed, will retry');
      throw err;
    } finally {
      workqueueWorkDuration.observe({ name: this.opts.name }, (Date.now() - started) / 1000);
      clearInterval(renew);
      await this.scripts.run('releaseLock', [lockKey], [lockToken]).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.worker) reportQueueDepth(this.opts.name, undefined);
    await this.worker?.close();
    await this.queue.close();
    this.queueConnection.disconnect();
  }
}
