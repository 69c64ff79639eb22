// Prometheus metrics shared by every service: reconcile outcomes per queue, request counts.
import { Counter, Histogram, register } from 'prom-client';

export const reconcileOutcomes = new Counter({
  name: 'wharf_reconcile_total',
  help: 'Reconciles by queue and outcome (success, requeue, error).',
  labelNames: ['queue', 'result'] as const,
});

export const apiRequests = new Histogram({
  name: 'wharf_apiserver_request_duration_seconds',
  help: 'API requests by verb, resource and code.',
  labelNames: ['verb', 'resource', 'code'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});

export const metricsRegistry = register;
