// Follows the validating admission policies and their bindings and hands them to this process's
// policy evaluator, so every writer (API servers, controller managers) enforces the policies bound
// a moment ago: a blocking read of both change streams wakes on each write, then the objects (few)
// are listed again whole, as the webhook configurations are followed (webhook-config-sync.ts).
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.ts';
import type { Logger } from '../log.ts';
import type { Store } from './store.ts';
import { isRedisOutage } from '../redis.ts';
import { sleep } from '../util.ts';
import { AdmissionPolicies } from '../admission/policies.ts';
import { VALIDATING_POLICIES, VALIDATING_POLICY_BINDINGS } from '../registry/kinds/validatingadmissionpolicy.ts';

const FOLLOWED = [VALIDATING_POLICIES, VALIDATING_POLICY_BINDINGS];

export class AdmissionPolicySync {
  private stopped = false;
  private loop?: Promise<void>;
  private seen = '';
  readonly policies: AdmissionPolicies;

  constructor(private readonly store: Store, private readonly connection: Redis, private readonly keys: Keys, private readonly log: Logger) {
    this.policies = new AdmissionPolicies({
      namespace: async (name) => (await store.get('namespaces', undefined, name)) ?? undefined,
      get: (resource, namespace, name) => store.get(resource, namespace, name),
      list: (resource, namespace) => store.list(resource, namespace),
    });
  }

  /** Loads the policies and bindings, hands the evaluator to the store, then follows their changes. */
  async start(): Promise<void> {
    const positions = await Promise.all(FOLLOWED.map((r) => this.lastEntry(this.keys.stream(r))));
    await this.relist();
    this.store.usePolicies(this.policies);
    this.loop = this.follow(positions);
  }

  private async lastEntry(stream: string): Promise<string> {
    return ((await this.connection.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][])[0]?.[0] ?? '0-0';
  }

  private async relist(): Promise<void> {
    const [policies, bindings] = await Promise.all(FOLLOWED.map((r) => this.store.list(r)));
    const fingerprint = [...policies.items, ...bindings.items].map((c) => `${c.kind}/${c.metadata.name}@${c.metadata.resourceVersion}`).sort().join(',');
    if (fingerprint === this.seen) return;
    this.policies.setPolicies(policies.items, bindings.items);
    this.seen = fingerprint;
  }

  private async follow(from: string[]): Promise<void> {
    const positions = [...from];
    const streams = FOLLOWED.map((r) => this.keys.stream(r));
    while (!this.stopped) {
      try {
        const reply = (await this.connection.xread('COUNT', 100, 'BLOCK', 5000, 'STREAMS', ...streams, ...positions)) as [string, [string, string[]][]][] | null;
        for (const [stream, entries] of reply ?? []) if (entries.length) positions[streams.indexOf(stream)] = entries[entries.length - 1][0];
        if (reply?.length) {
          await this.relist();
        } else {
          // A quiet period: streams recreated under us (their last entry is not the one we read) still converge.
          const ends = await Promise.all(streams.map((s) => this.lastEntry(s)));
          if (ends.some((end, i) => end !== positions[i])) {
            positions.splice(0, positions.length, ...ends);
            await this.relist();
          }
        }
      } catch (err) {
        if (this.stopped) return;
        if (!isRedisOutage(err)) this.log.warn({ err: (err as Error).message }, 'following validating admission policies failed; retrying');
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
