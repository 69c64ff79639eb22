// The node agent's resource metrics: every period it lists the node's containers, reads the
// running app containers' counters from the runtime (cgroup files, see runtime/cgroup-stats.ts),
// and writes each pod's and the node's sample to Redis (shared/resource-metrics.ts), where the
// metrics.k8s.io API and the HorizontalPodAutoscaler read them — the kubelet's summary and
// metrics-server's scrape in one step. The same figures are served on the agent's /metrics under
// cAdvisor's and the kubelet's names.
import type { Redis } from 'ioredis';
import { Counter, Gauge } from 'prom-client';
import type { Keys } from '../../shared/keys.ts';
import type { Logger } from '../../shared/log.ts';
import { recordUsage, type PodRef } from '../../shared/resource-metrics.ts';
import type { ContainerRuntime, RawUsage } from './runtime/types.ts';
import { nodeSample, podSamples, type Reading } from './usage-logic.ts';

const CONTAINER_LABELS = ['namespace', 'pod', 'container'] as const;
type ContainerLabels = Record<(typeof CONTAINER_LABELS)[number], string>;

/** What the last pass of this process's collector read, for the scrape. */
let lastPass: { running: number; containers: { labels: ContainerLabels; usage: RawUsage }[] } = { running: 0, containers: [] };

// The scrape reports the last pass's figures as they are (cumulative counters from the cgroups).
export const runningPods = new Gauge({
  name: 'kubelet_running_pods',
  help: 'Number of pods that have a running pod sandbox',
  collect() {
    this.set(lastPass.running);
  },
});

export const containerCpuUsage = new Counter({
  name: 'container_cpu_usage_seconds_total',
  help: 'Cumulative cpu time consumed in seconds.',
  labelNames: CONTAINER_LABELS,
  collect() {
    this.reset();
    for (const c of lastPass.containers) this.inc(c.labels, c.usage.cpuNanos / 1e9);
  },
});

export const containerMemoryWorkingSet = new Gauge({
  name: 'container_memory_working_set_bytes',
  help: 'Current working set in bytes.',
  labelNames: CONTAINER_LABELS,
  collect() {
    this.reset();
    for (const c of lastPass.containers) this.set(c.labels, c.usage.memoryWorkingSetBytes);
  },
});

export interface UsageCollectorOptions {
  nodeName: string;
  runtime: ContainerRuntime;
  redis: Redis;
  keys: Keys;
  periodMs: number;
  log: Logger;
}

export class UsageCollector {
  private previous = new Map<string, Reading>();
  private previousHost?: Reading;
  private recorded = new Map<string, PodRef>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly opts: UsageCollectorOptions) {}

  start(): void {
    const tick = () => {
      // A pass still running (a slow engine) is not doubled up.
      this.running ??= this.collect()
        .catch((err) => this.opts.log.warn({ err: (err as Error).message }, 'resource metrics pass failed'))
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.opts.periodMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass: list, read, write. */
  async collect(): Promise<void> {
    const { runtime, nodeName } = this.opts;
    const containers = await (runtime.listRunning ? runtime.listRunning(nodeName) : runtime.listContainers(nodeName));
    const sandboxes = new Set(containers.filter((c) => (c.role === 'sandbox' || c.ownsNetwork) && c.state === 'running').map((c) => c.pod.uid));
    if (!runtime.containerUsage) {
      lastPass = { running: sandboxes.size, containers: [] };
      return;
    }
    const app = containers.filter((c) => c.role === 'app' && c.state === 'running');
    const [read, host] = await Promise.all([runtime.containerUsage(app.map((c) => c.id)), runtime.nodeUsage?.()]);
    const at = Date.now();
    const { pods, readings } = podSamples(nodeName, app, read, this.previous, at);
    const hostReading = host ? { at, usage: host } : undefined;
    const node = nodeSample(nodeName, pods, hostReading, this.previousHost, at, this.opts.periodMs / 1000);
    this.previous = readings;
    this.previousHost = hostReading;

    const now = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, { namespace: p.namespace, name: p.name }]));
    const gone = [...this.recorded].filter(([key]) => !now.has(key) && !app.some((c) => `${c.pod.namespace}/${c.pod.name}` === key)).map(([, ref]) => ref);
    await recordUsage(this.opts.redis, this.opts.keys, node, pods, gone);
    for (const ref of gone) this.recorded.delete(`${ref.namespace}/${ref.name}`);
    for (const [key, ref] of now) this.recorded.set(key, ref);

    lastPass = {
      running: sandboxes.size,
      containers: app.flatMap((c) => {
        const usage = read.get(c.id);
        return usage ? [{ labels: { namespace: c.pod.namespace, pod: c.pod.name, container: c.name }, usage }] : [];
      }),
    };
  }
}
