// Follows the admission webhook configurations and hands them to this process's dispatcher, so
// every writer (API servers, controller managers, schedulers, node agents) calls the webhooks
// configured a moment ago: a blocking read of both change streams wakes on each write, then the
// configurations (few) are listed again whole. Also the dispatcher's view of the cluster
// (namespace labels, a Service's ready backends), read through the store.
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.ts';
import type { Logger } from '../log.ts';
import type { Store } from './store.ts';
import { isRedisOutage } from '../redis.ts';
import { sleep } from '../util.ts';
import { AdmissionWebhooks, resolveServiceEndpoint, type WebhookCluster } from '../admission/webhooks.ts';
import { MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS } from '../registry/kinds/webhookconfiguration.ts';

/** A namespace's labels and a ready backend of a Service's port, from the store. */
export function storeWebhookCluster(store: Store): WebhookCluster {
  return {
    async namespaceLabels(namespace) {
      return (await store.get('namespaces', undefined, namespace))?.metadata.labels;
    },
    async serviceBackend(namespace, name, port) {
      const [service, endpoints] = await Promise.all([store.get('services', namespace, name), store.get('endpoints', namespace, name)]);
      return resolveServiceEndpoint(name, service, endpoints, port);
    },
  };
}

export class WebhookConfigSync {
  private stopped = false;
  private loop?: Promise<void>;
  private seen = '';
  readonly webhooks: AdmissionWebhooks;

  constructor(private readonly store: Store, private readonly connection: Redis, private readonly keys: Keys, private readonly log: Logger) {
    this.webhooks = new AdmissionWebhooks(storeWebhookCluster(store));
  }

  /** Loads the configurations, hands the dispatcher to the store, then follows their changes. */
  async start(): Promise<void> {
    const positions = await Promise.all([MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS].map(async (r) => {
      const last = (await this.connection.xrevrange(this.keys.stream(r), '+', '-', 'COUNT', 1)) as [string, string[]][];
      return last[0]?.[0] ?? '0-0';
    }));
    await this.relist();
    this.store.useWebhooks(this.webhooks);
    this.loop = this.follow(positions);
  }

  private async relist(): Promise<void> {
    const [mutating, validating] = await Promise.all([this.store.list(MUTATING_WEBHOOKS), this.store.list(VALIDATING_WEBHOOKS)]);
    const fingerprint = [...mutating.items, ...validating.items].map((c) => `${c.kind}/${c.metadata.name}@${c.metadata.resourceVersion}`).sort().join(',');
    if (fingerprint === this.seen) return;
    this.webhooks.setConfigurations(mutating.items, validating.items);
    this.seen = fingerprint;
  }

  private async follow(from: string[]): Promise<void> {
    const positions = [...from];
    const streams = [MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS].map((r) => this.keys.stream(r));
    while (!this.stopped) {
      try {
        const reply = (await this.connection.xread('COUNT', 100, 'BLOCK', 5000, 'STREAMS', ...streams, ...positions)) as [string, [string, string[]][]][] | null;
        for (const [stream, entries] of reply ?? []) if (entries.length) positions[streams.indexOf(stream)] = entries[entries.length - 1][0];
        if (reply?.length) {
          await this.relist();
        } else {
          // A quiet period: streams recreated under us (their last entry is not the one we read)
          // still converge. Asked on this connection, so the store's own stays free for requests.
          const ends = await Promise.all(streams.map(async (stream) => ((await this.connection.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][])[0]?.[0] ?? '0-0'));
          if (ends.some((end, i) => end !== positions[i])) {
            positions.splice(0, positions.length, ...ends);
            await this.relist();
          }
        }
      } catch (err) {
        if (this.stopped) return;
        if (!isRedisOutage(err)) this.log.warn({ err: (err as Error).message }, 'following admission webhook configurations failed; retrying');
        await sleep(500);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.connection.disconnect();
    await this.loop?.catch(() => undefined);
  }
}
