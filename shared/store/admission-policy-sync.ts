// Follows the validating admission policies and their bindings and hands them to this process's
// policy evaluator, so every writer (API servers, controller managers, schedulers, node agents)
// enforces the policies bound a moment ago (see small-kinds-follower.ts).
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.ts';
import type { Logger } from '../log.ts';
import type { Store } from './store.ts';
import { SmallKindsFollower } from './small-kinds-follower.ts';
import { AdmissionPolicies } from '../admission/policies.ts';
import { VALIDATING_POLICIES, VALIDATING_POLICY_BINDINGS } from '../registry/kinds/validatingadmissionpolicy.ts';

export class AdmissionPolicySync {
  readonly policies: AdmissionPolicies;
  private readonly follower: SmallKindsFollower;

  constructor(private readonly store: Store, connection: Redis, keys: Keys, log: Logger) {
    this.policies = new AdmissionPolicies({
      namespace: async (name) => (await store.get('namespaces', undefined, name)) ?? undefined,
      get: (resource, namespace, name) => store.get(resource, namespace, name),
      list: (resource, namespace) => store.list(resource, namespace),
    });
    this.follower = new SmallKindsFollower({
      store, connection, keys, log,
      resources: [VALIDATING_POLICIES, VALIDATING_POLICY_BINDINGS],
      what: 'validating admission policies',
      onChange: ([policies, bindings]) => this.policies.setPolicies(policies, bindings),
    });
  }

  /** Loads the policies and bindings, hands the evaluator to the store, then follows their changes. */
  async start(): Promise<void> {
    await this.follower.start();
    this.store.usePolicies(this.policies);
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }
}
