// Prometheus metrics shared by every service: reconcile outcomes per queue, and the API server's
// requests under Kubernetes' own names and labels (apiserver_request_total,
// apiserver_request_duration_seconds), so dashboards and SLO rules made for Kubernetes read them.
import { Counter, Gauge, Histogram, register } from 'prom-client';

export const reconcileOutcomes = new Counter({
  name: 'wharf_reconcile_total',
  help: 'Reconciles by queue and outcome (success, requeue, error).',
  labelNames: ['queue', 'result'] as const,
});

const REQUEST_LABELS = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;

export const apiRequestTotal = new Counter({
  name: 'apiserver_request_total',
  help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
  labelNames: [...REQUEST_LABELS, 'code'] as const,
});

export const apiRequestDuration = new Histogram({
  name: 'apiserver_request_duration_seconds',
  help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
  labelNames: REQUEST_LABELS,
  // Kubernetes' buckets (its SLO rules read le="1", "5" and "30"), with two below its first:
  // Wharf answers most reads in under a millisecond.
  buckets: [0.001, 0.0025, 0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
});

// client-go's workqueue metrics (k8s.io/component-base/metrics/prometheus/workqueue), label
// name = the queue's name. A queue here is a BullMQ queue shared by every process that works it, so
// depth is the shared queue's, as any one process sees it.
const QUEUE_BUCKETS = Array.from({ length: 10 }, (_, i) => 1e-8 * 10 ** i); // ExponentialBuckets(10e-9, 10, 10)

/** Each live queue's current depth (keys ready to be worked on), asked of Redis at scrape time. */
const queueDepths = new Map<string, () => Promise<number>>();

export function reportQueueDepth(name: string, depth: (() => Promise<number>) | undefined): void {
  if (depth) queueDepths.set(name, depth);
  else queueDepths.delete(name);
}

export const workqueueDepth = new Gauge({
  name: 'workqueue_depth',
  help: 'Current depth of workqueue',
  labelNames: ['name'] as const,
  async collect() {
    this.reset();
    await Promise.all([...queueDepths].map(async ([name, depth]) => this.set({ name }, await depth().catch(() => 0))));
  },
});

export const workqueueAdds = new Counter({
  name: 'workqueue_adds_total',
  help: 'Total number of adds handled by workqueue',
  labelNames: ['name'] as const,
});

export const workqueueQueueDuration = new Histogram({
  name: 'workqueue_queue_duration_seconds',
  help: 'How long in seconds an item stays in workqueue before being requested.',
  labelNames: ['name'] as const,
  buckets: QUEUE_BUCKETS,
});

export const workqueueWorkDuration = new Histogram({
  name: 'workqueue_work_duration_seconds',
  help: 'How long in seconds processing an item from workqueue takes.',
  labelNames: ['name'] as const,
  buckets: QUEUE_BUCKETS,
});

export const workqueueRetries = new Counter({
  name: 'workqueue_retries_total',
  help: 'Total number of retries handled by workqueue',
  labelNames: ['name'] as const,
});

/**
 * Wharf's own: jobs that found their key being reconciled by another worker (this process's or
 * another's) and were put back for a moment. Replicas sharing a queue meet each other here; the
 * benchmarks read it beside wharf_reconcile_total to tell more reconciles from dearer ones.
 */
export const workqueueKeyBusy = new Counter({
  name: 'wharf_workqueue_key_busy_total',
  help: 'Jobs that found their key being reconciled by another worker and were put back for a moment, by queue.',
  labelNames: ['name'] as const,
});

export const metricsRegistry = register;
