// The HorizontalPodAutoscaler controller: every sync period, each HPA reads its target through the
// target's /scale (any kind that serves one), the pods the scale selects and their usage samples
// (shared/resource-metrics.ts), decides in plan.ts, scales the target, and writes its status and
// events. Stateless: the recommendation and scale-event history lives in Redis (history.ts), so
// any controller-manager replica may take any sync.
import type { Pod, KubeObject } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import type { PodUsage } from '../../../shared/resource-metrics.ts';
import type { Logger } from '../../../shared/log.ts';
import { NotFoundError, isConflict, isNotFound } from '../../../shared/errors.ts';
import { scaleOf, scaleTargetResource, setScaleReplicas } from '../../../shared/api/scale.ts';
import type { ResourceInfo } from '../../../shared/api/resources.ts';
import { deepEqual } from '../../../shared/util.ts';
import { failedGetScale, failedRescale, groupOf, planSync, type HpaSettings, type ScaleView, type SyncInputs, type SyncPlan } from './plan.ts';
import { trimHistory } from './behavior.ts';
import type { HistoryStore } from './history.ts';

export const HPA_RESOURCE = 'horizontalpodautoscalers';

export interface HpaControllerSettings extends HpaSettings {
  syncPeriodMs: number;
}

/** Where the controller reads pod usage: the node agents' latest samples, fresh ones only. */
export type PodUsageReader = (namespace: string) => Promise<PodUsage[]>;

export class HorizontalPodAutoscalerController {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly podUsage: PodUsageReader,
    private readonly history: HistoryStore,
    private readonly settings: HpaControllerSettings,
    private readonly log: Logger,
  ) {}

  /** Kubernetes' HPA queue adds every key with the sync period's delay: this is that delay. */
  get syncPeriodMs(): number {
    return this.settings.syncPeriodMs;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const hpa = await this.store.get(HPA_RESOURCE, namespace, name);
    if (!hpa || hpa.metadata.deletionTimestamp) return;
    const now = Date.now();
    const target = await this.readScale(hpa);
    let plan: SyncPlan;
    if (target instanceof Error) {
      plan = failedGetScale(hpa, target.message, now);
    } else {
      const [pods, samples, history] = await Promise.all([
        this.store.list<Pod>('pods', namespace).then((l) => l.items),
        this.podUsage(namespace),
        this.history.get(hpa.metadata.uid!),
      ]);
      const inputs: SyncInputs = { hpa, scale: target.scale, pods, samples, history, settings: this.settings, now };
      plan = planSync(inputs);
      if (plan.rescale) {
        try {
          await this.setReplicas(target.resource, target.object, plan.rescale.to);
        } catch (err) {
          plan = failedRescale(inputs, plan, (err as Error).message);
        }
      }
      if (plan.rescale) this.log.info({ hpa: key, from: plan.rescale.from, to: plan.rescale.to, reason: plan.rescale.reason }, 'rescaled');
    }
    if (plan.history) await this.history.set(hpa.metadata.uid!, trimHistory(plan.history, this.historyKeepMs(hpa), now), this.historyKeepMs(hpa) + 2 * this.settings.syncPeriodMs);
    for (const e of plan.events) await this.events.record(hpa, e.type, e.reason, e.message);
    await this.writeStatus(hpa, plan.status);
    if (plan.error) this.log.debug({ hpa: key, err: plan.error }, 'hpa sync found a problem');
    return { requeueAfterMs: this.settings.syncPeriodMs };
  }

  /** The target's Scale, as its /scale subresource would answer, or the error a scale client would get. */
  private async readScale(hpa: KubeObject): Promise<{ resource: ResourceInfo; object: KubeObject; scale: ScaleView } | Error> {
    const ref = hpa.spec?.scaleTargetRef ?? {};
    const resource = scaleTargetResource(groupOf(ref.apiVersion), ref.kind);
    if (resource instanceof Error) return resource;
    const object = await this.store.get(resource, hpa.metadata.namespace, ref.name);
    if (!object) return new Error(new NotFoundError(resource.plural, ref.name, resource.group).message);
    const scale = scaleOf(object, resource);
    return { resource, object, scale: { specReplicas: scale.spec.replicas, statusReplicas: scale.status.replicas, selector: scale.status.selector } };
  }

  /** A write of the Scale's spec.replicas, on the object the scale was read from (same uid). */
  private async setReplicas(resource: ResourceInfo, object: KubeObject, replicas: number): Promise<void> {
    await this.store.guaranteedUpdate(resource, object.metadata.namespace, object.metadata.name!, (obj) => setScaleReplicas(obj, replicas, resource), { preconditions: { uid: object.metadata.uid } });
  }

  /** How long the history matters: the longest stabilization window or policy period, at least the controller's downscale window. */
  private historyKeepMs(hpa: KubeObject): number {
    const b = hpa.spec?.behavior ?? {};
    const seconds = [b.scaleUp, b.scaleDown].flatMap((r: any) => [r?.stabilizationWindowSeconds ?? 0, ...(r?.policies ?? []).map((p: any) => p.periodSeconds ?? 0)]);
    return Math.max(this.settings.downscaleStabilizationMs, ...seconds.map((s) => s * 1000)) + this.settings.syncPeriodMs;
  }

  private async writeStatus(hpa: KubeObject, status: Record<string, any>): Promise<void> {
    if (deepEqual(hpa.status ?? {}, status)) return;
    try {
      await this.store.guaranteedUpdate(HPA_RESOURCE, hpa.metadata.namespace, hpa.metadata.name!, (current) => {
        if (current.metadata.uid !== hpa.metadata.uid) return null;
        return { ...current, status };
      }, { subresource: 'status' });
    } catch (err) {
      // Deleted meanwhile, or lost a race: the next sync writes it again.
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
