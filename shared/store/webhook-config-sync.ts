// Follows the admission webhook configurations and hands them to this process's dispatcher, so
// every writer (API servers, controller managers, schedulers, node agents) calls the webhooks
// configured a moment ago: a blocking read of both change streams wakes on each write, then the
// configurations (few) are listed again whole. Also the dispatcher's view of the cluster
// (namespace labels, a Service's ready backends), read through the store.
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.ts';
import type { Logger } from '../log.ts';
import type { Store } from './store.ts';
import { SmallKindsFollower } from './small-kinds-follower.ts';
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
  readonly webhooks: AdmissionWebhooks;
  private readonly follower: SmallKindsFollower;

  constructor(private readonly store: Store, connection: Redis, keys: Keys, log: Logger) {
    this.webhooks = new AdmissionWebhooks(storeWebhookCluster(store));
    this.follower = new SmallKindsFollower({
      store, connection, keys, log,
      resources: [MUTATING_WEBHOOKS, VALIDATING_WEBHOOKS],
      what: 'admission webhook configurations',
      onChange: ([mutating, validating]) => this.webhooks.setConfigurations(mutating, validating),
    });
  }

  /** Loads the configurations, hands the dispatcher to the store, then follows their changes. */
  async start(): Promise<void> {
    await this.follower.start();
    this.store.useWebhooks(this.webhooks);
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }
}
