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
import { isRedisOutage } from '../redis.ts';
import { sleep } from '../util.ts';
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
  private stopped = false;
  private loop?: Promise<void>;
  /** The CRDs installed last, by name and resourceVersion: an unchanged list installs nothing. */
  private installed = '';

  constructor(
    private readonly store: Store,
    /** A dedicated connection: XREAD blocks it. */
    private readonly connection: Redis,
    private readonly keys: Keys,
    private readonly log: Logger,
    /** Called after the kinds changed (with the CRDs now served). */
    private readonly onChange: (crds: KubeObject[]) => void = () => {},
  ) {}

  /** Installs the kinds of the CRDs stored now, then follows their changes. */
  async start(): Promise<void> {
    const position = await this.streamEnd();
    await this.relist();
    this.loop = this.follow(position);
  }

  private async streamEnd(): Promise<string> {
    const last = (await this.connection.xrevrange(this.keys.stream(CRD_PLURAL), '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last[0]?.[0] ?? '0-0';
  }

  /** Lists the CRDs and installs their kinds, if anything changed. */
  async relist(): Promise<void> {
    const { items } = await this.store.list(CRD_PLURAL);
    const fingerprint = items.map((c) => `${c.metadata.name}@${c.metadata.resourceVersion}`).sort().join(',');
    if (fingerprint === this.installed) return;
    installCustomKinds(kindsOf(items, (crd, err) => this.log.warn({ crd: crd.metadata.name, err: err.message }, 'cannot serve a CustomResourceDefinition')));
    this.installed = fingerprint;
    this.onChange(items);
  }

  private async follow(from: string): Promise<void> {
    let position = from;
    const stream = this.keys.stream(CRD_PLURAL);
    while (!this.stopped) {
      try {
        const reply = (await this.connection.xread('COUNT', 100, 'BLOCK', 5000, 'STREAMS', stream, position)) as [string, [string, string[]][]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length) {
          position = entries[entries.length - 1][0];
          await this.relist();
        } else {
          // A quiet period: a stream recreated under us (its last entry is not the one we read)
          // still converges. Asked on this connection, so the store's own stays free for requests.
          const end = await this.streamEnd();
          if (end !== position) {
            position = end;
            await this.relist();
          }
        }
      } catch (err) {
        if (this.stopped) return;
        if (!isRedisOutage(err)) this.log.warn({ err: (err as Error).message }, 'following CustomResourceDefinitions failed; retrying');
        await sleep(500);
        position = await this.streamEnd().catch(() => position);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.connection.disconnect();
    await this.loop?.catch(() => undefined);
  }
}
