// Follows the CustomResourceDefinitions in the store and installs the kinds they define in this
// process's registry, so every API server replica (and the controller manager) serves a new kind
// within a moment of its CRD being written: a blocking read of the CRD change stream wakes on each
// write, and the CRDs (few) are then listed again whole — level-triggered, so a missed or
// reordered event cannot leave a replica out of date. The stream position is taken before the
// list, so nothing written between the two is missed.
import type { Redis } from 'ioredis';
import type { KubeObject } from '../types.ts';
import type { Keys } from '../keys.ts';
import type { Logger } from '../log.ts';
import type { Store } from './store.ts';
import { SmallKindsFollower } from './small-kinds-follower.ts';
import { installCustomKinds } from '../registry/registry.ts';
import { customKindsOf, type CustomKinds } from '../registry/custom-resources.ts';
import { CRD_PLURAL } from '../registry/kinds/customresourcedefinition.ts';

/** The kinds a list of CRDs defines: a CRD that cannot be turned into one is skipped (and logged by the caller). */
export function kindsOf(crds: KubeObject[], onError: (crd: KubeObject, err: Error) => void = () => {}): CustomKinds[] {
  const out: CustomKinds[] = [];
  for (const crd of crds) {
    try {
      const kinds = customKindsOf(crd);
      if (kinds) out.push(kinds);
    } catch (err) {
      onError(crd, err as Error);
    }
  }
  return out;
}

export class CustomKindsSync {
  private readonly follower: SmallKindsFollower;

  constructor(
    store: Store,
    /** A dedicated connection: XREAD blocks it. */
    connection: Redis,
    keys: Keys,
    log: Logger,
    /** Called after the kinds changed (with the CRDs now served). */
    onChange: (crds: KubeObject[]) => void = () => {},
  ) {
    this.follower = new SmallKindsFollower({
      store, connection, keys, log,
      resources: [CRD_PLURAL],
      what: 'CustomResourceDefinitions',
      onChange: ([crds]) => {
        installCustomKinds(kindsOf(crds, (crd, err) => log.warn({ crd: crd.metadata.name, err: err.message }, 'cannot serve a CustomResourceDefinition')));
        onChange(crds);
      },
    });
  }

  /** Installs the kinds of the CRDs stored now, then follows their changes. */
  start(): Promise<void> {
    return this.follower.start();
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }
}
