// The API server's authorizer: RBAC over the informer cache (shared/auth/rbac.ts decides). The cache
// follows the streams a moment behind the writes, so a refusal is confirmed on a cache caught up
// with every RBAC change made before the request: a RoleBinding just created is honoured by the
// next request, whichever API server it reaches. Allowing needs no such wait.
import type { UserInfo } from '../../../shared/auth/user.ts';
import { authorize, rulesFor, type Attributes, type Decision, type PolicyRule, type RbacSource } from '../../../shared/auth/rbac.ts';
import type { Requester } from '../../../shared/registry/strategy.ts';

/** The longest a refusal waits for the cache to catch up before it is answered as the cache stands. */
const CATCH_UP_MS = 2_000;

export interface FreshSource extends RbacSource {
  catchUp(timeoutMs: number): Promise<boolean>;
}

export class Authorizer {
  constructor(private readonly source: FreshSource) {}

  async authorize(attrs: Attributes): Promise<Decision> {
    const decision = authorize(this.source, attrs);
    if (decision.allowed) return decision;
    await this.source.catchUp(CATCH_UP_MS);
    return authorize(this.source, attrs);
  }

  /**
   * Every rule RBAC grants the user in namespace, read from a caught-up cache. As in Kubernetes,
   * system:masters' standing permission is no rule: its members list what cluster-admin grants them.
   */
  async rulesFor(user: UserInfo, namespace: string): Promise<{ rules: PolicyRule[]; errors: string[] }> {
    await this.source.catchUp(CATCH_UP_MS);
    return rulesFor(this.source, user, namespace);
  }

  /** The requester a write through the API carries into admission (RBAC's escalation checks). */
  requester(user: UserInfo): Requester {
    return {
      user,
      authorize: async (attrs) => (await this.authorize({ ...attrs, user })).allowed,
      rulesFor: (namespace) => this.rulesFor(user, namespace),
    };
  }
}
