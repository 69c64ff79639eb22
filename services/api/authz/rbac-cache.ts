// The API server's view of the cluster's roles and bindings: four informers (list, then follow each
// kind's change stream), as Kubernetes' RBAC authorizer reads listers over shared informers, so
// authorizing a request reads nothing from Redis. Indexes by namespace and name are rebuilt on the
// first read after a change.
import type { Redis } from 'ioredis';
import type { KubeObject } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { Logger } from '../../../shared/log.ts';
import { Informer } from '../../../shared/store/informer.ts';
import type { BindingLike, RbacSource, RoleLike } from '../../../shared/auth/rbac.ts';

const KINDS = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'] as const;
type Kind = (typeof KINDS)[number];

interface Index {
  roles: Map<string, RoleLike>;
  clusterRoles: Map<string, RoleLike>;
  roleBindings: Map<string, BindingLike[]>;
  clusterRoleBindings: BindingLike[];
}

export class RbacCache implements RbacSource {
  private readonly informers: Record<Kind, Informer>;
  private index: Index | undefined;

  constructor(store: Store, connect: () => Redis, log: Logger) {
    const informer = (resource: Kind) => new Informer({ store, resource, connection: connect(), log, onChange: () => (this.index = undefined) });
    this.informers = { roles: informer('roles'), clusterroles: informer('clusterroles'), rolebindings: informer('rolebindings'), clusterrolebindings: informer('clusterrolebindings') };
  }

  /** Resolves once every kind's first list is in the cache. */
  async start(): Promise<void> {
    await Promise.all(KINDS.map((k) => this.informers[k].start()));
  }

  async stop(): Promise<void> {
    await Promise.all(KINDS.map((k) => this.informers[k].stop()));
  }

  /**
   * Resolves true once the cache holds every RBAC change written before the call, false if that
   * takes longer than timeoutMs or Redis cannot say (the cache then stays as it is).
   */
  async catchUp(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    try {
      const done = await Promise.all(KINDS.map((k) => this.informers[k].caughtUp(deadline)));
      return done.every(Boolean);
    } catch {
      return false;
    }
  }

  private build(): Index {
    if (this.index) return this.index;
    const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const roleBindings = new Map<string, BindingLike[]>();
    for (const b of this.informers.rolebindings.list()) {
      const ns = b.metadata.namespace ?? '';
      roleBindings.set(ns, [...(roleBindings.get(ns) ?? []), b as unknown as BindingLike]);
    }
    this.index = {
      roles: new Map(this.informers.roles.list().map((r) => [key(r), r as RoleLike])),
      clusterRoles: new Map(this.informers.clusterroles.list().map((r) => [r.metadata.name!, r as RoleLike])),
      roleBindings,
      clusterRoleBindings: this.informers.clusterrolebindings.list() as unknown as BindingLike[],
    };
    return this.index;
  }

  clusterRoleBindings(): BindingLike[] {
    return this.build().clusterRoleBindings;
  }

  roleBindings(namespace: string): BindingLike[] {
    return this.build().roleBindings.get(namespace) ?? [];
  }

  role(namespace: string, name: string): RoleLike | undefined {
    return this.build().roles.get(`${namespace}/${name}`);
  }

  clusterRole(name: string): RoleLike | undefined {
    return this.build().clusterRoles.get(name);
  }
}
