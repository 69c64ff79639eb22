// Many simulated nodes in one process, as kwok hosts them for Kubernetes. Each node is still a
// NodeAgent with its own SimulatedRuntime, Node, Lease and status updates, but what costs per node
// elsewhere is shared here:
//  - one work queue (QUEUES.simulatedHost) and one BullMQ worker for all nodes of the process, its
//    keys `<node>|<namespace>/<name>`; producers find it through keys.nodeQueueRoutes, so a pod
//    bound to a node is still reconciled by whoever hosts that node, and collapses per pod;
//  - heartbeats run on one timer, spread over the heartbeat interval in slices, a slice's updates
//    in flight together on the shared connection (pipelined); node status is written only every
//    statusEveryMs unless it must change, the Lease every heartbeat;
//  - one informer on pods for all nodes (no list per resync), and a resync queues only the pods
//    whose status does not yet match their simulated containers.
import type { Redis } from 'ioredis';
import type { Pod } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { WorkQueue } from '../../shared/queue/workqueue.ts';
import { Informer } from '../../shared/store/informer.ts';
import { QUEUES, hostedPodKey } from '../../shared/keys.ts';
import type { Logger } from '../../shared/log.ts';
import { NodeAgent, type AgentOptions } from './agent.ts';
import { inBatches } from '../../shared/util.ts';
import { CoalescedRun } from '../../shared/coalesced-run.ts';

export interface SimulatedHostOptions {
  /** Names the shared queue: stable across restarts of the same host, unique between hosts. */
  hostName: string;
  nodeNames: string[];
  store: Store;
  /** The process's shared connection (the work queue's commands); blocking readers get their own through connect. */
  redis: Redis;
  connect: () => Redis;
  log: Logger;
  heartbeatMs: number;
  resyncMs: number;
  /** Node status at least this often (the Lease goes every heartbeat); default 6 heartbeats. */
  statusEveryMs?: number;
  concurrency: number;
  /** The options of one node's agent, without the queue the host provides. */
  agentOptions: (nodeName: string) => Omit<AgentOptions, 'hosted'>;
}

/** Registration and other per-node bursts: this many nodes at once. */
const PARALLEL = 64;
/** Heartbeat slices per interval: a tick every heartbeatMs / TICKS. */
const TICKS = 10;

export class SimulatedNodeHost {
  readonly queue: WorkQueue;
  readonly agents = new Map<string, NodeAgent>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly pods: Informer<Pod>;
  private readonly resyncs = new CoalescedRun(() => this.resyncOnce());
  private tick = 0;

  constructor(private readonly opts: SimulatedHostOptions) {
    const name = QUEUES.simulatedHost(opts.hostName);
    this.queue = new WorkQueue({
      name,
      keys: opts.store.keys,
      redis: opts.redis,
      connect: opts.connect,
      reconcile: (key) => this.reconcile(key),
      log: opts.log,
      concurrency: opts.concurrency,
      lockTtlMs: 8_000,
    });
    this.pods = new Informer<Pod>({ store: opts.store, resource: 'pods', connection: opts.connect(), log: opts.log });
    for (const node of opts.nodeNames) {
      this.agents.set(node, new NodeAgent({
        ...opts.agentOptions(node),
        hosted: {
          queue: {
            add: (key, delayMs) => this.queue.add(hostedPodKey(node, key), delayMs),
            addAll: (keys) => this.queue.addAll([...keys].map((k) => hostedPodKey(node, k))),
          },
          requestResync: () => void this.resync().catch((err) => opts.log.warn({ err: err.message }, 'resync failed')),
        },
      }));
    }
  }

  async start(): Promise<void> {
    const { store } = this.opts;
    // Route first: a pod bound while the nodes register must land in the shared queue.
    const name = QUEUES.simulatedHost(this.opts.hostName);
    for (let i = 0; i < this.opts.nodeNames.length; i += 1000) {
      const slice = this.opts.nodeNames.slice(i, i + 1000);
      await store.routeNodesToQueue(slice, name);
    }
    await inBatches(this.agents.values(), PARALLEL, (a) => a.start());
    await this.queue.clearLocks();
    this.queue.start();
    await this.pods.start();
    await this.resync();
    const tickMs = Math.max(50, Math.floor(this.opts.heartbeatMs / TICKS));
    this.timers.push(setInterval(() => void this.heartbeatSlice(), tickMs));
    this.timers.push(setInterval(() => void this.resync().catch((err) => this.opts.log.warn({ err: err.message }, 'resync failed')), this.opts.resyncMs));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.pods.stop();
    await Promise.all([...this.agents.values()].map((a) => a.stop()));
    await this.queue.close();
  }

  private async reconcile(key: string) {
    const bar = key.indexOf('|');
    const agent = this.agents.get(key.slice(0, bar));
    if (bar < 0 || !agent) return; // not ours (any more): nothing to do
    return agent.reconcile(key.slice(bar + 1));
  }

  /** One tick's share of the nodes, all in flight at once on the shared connection. */
  private async heartbeatSlice(): Promise<void> {
    const agents = [...this.agents.values()];
    const tick = this.tick++ % TICKS;
    const slice = agents.filter((_, i) => i % TICKS === tick);
    const statusEveryMs = this.opts.statusEveryMs ?? this.opts.heartbeatMs * 6;
    const results = await Promise.allSettled(slice.map((a) => a.heartbeat(statusEveryMs)));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length) this.opts.log.warn({ failed: failed.length, err: ((failed[0] as PromiseRejectedResult).reason as Error)?.message }, 'heartbeats failed');
  }

  /** The informer's pods, by node, for every node of the host; concurrent requests collapse into one more run. */
  resync(): Promise<void> {
    return this.resyncs.request();
  }

  private async resyncOnce(): Promise<void> {
    const byNode = new Map<string, Pod[]>();
    for (const pod of this.pods.list()) {
      const node = pod.spec.nodeName;
      if (!node || !this.agents.has(node)) continue;
      let list = byNode.get(node);
      if (!list) byNode.set(node, (list = []));
      list.push(pod);
    }
    await inBatches(this.agents.values(), PARALLEL, (a) => a.resync(byNode.get(a.name) ?? [], true));
  }
}
