// The HTTPScaledObject controller (what KEDA's HTTP add-on operator, scaler and KEDA itself do
// together, in one level-triggered reconcile): reads the Service's traffic that the node proxies
// report, decides the Deployment's replicas (plan.ts), writes them, and keeps the object's status
// (targetWorkload, targetService, the Ready condition) as KEDA's operator does.
//
// Keys are "namespace/name" of HTTPScaledObjects. They are enqueued when one changes, when a
// Deployment or Service changes, when a proxy says it holds connections for a Service at zero (the
// activation channel), and by each reconcile itself every sync period (KEDA's pollingInterval) or
// when the idle period ends, whichever is sooner. Each run re-reads everything, so several
// controller managers (one reconcile per key at a time, by the queue's lock) agree. An activation
// message also runs activate() at once, the wake-up alone, which needs no lock (it writes only over 0).
import type { KubeObject } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import type { Informer } from '../../../shared/store/informer.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { isConflict, isNotFound } from '../../../shared/errors.ts';
import { deepEqual } from '../../../shared/util.ts';
import { httpScaling, type ServiceTraffic } from '../../../shared/http-scaling.ts';
import { READY, decideReplicas, setCondition, targetStatus } from './plan.ts';

/** Where the controller reads traffic and keeps its recommendations (Redis, in the manager). */
export interface TrafficSource {
  read(namespace: string, service: string, now: number): Promise<ServiceTraffic>;
  /** Records this round's recommendation and answers those of the last windowMs (this one included). */
  remember(namespace: string, name: string, recommendation: number, now: number, windowMs: number): Promise<number[]>;
  /** Records `replicas` as the Deployment's size before the object (by uid) took it over, unless one is recorded; answers the recorded one. */
  original(uid: string, replicas: number): Promise<number>;
  /** Forgets what was kept for the object; answers its recorded original size. */
  forgetOriginal(uid: string, namespace: string, name: string): Promise<number | undefined>;
}

/** KEDA's HTTP add-on's finalizer: a deleted object first gives its Deployment back its original size. */
export const HTTPSO_FINALIZER = 'httpscaledobject.http.keda.sh';

export interface HttpScalerOptions {
  syncMs: number;
}

export class HttpScaledObjectController {
  constructor(
    private readonly store: Store,
    private readonly informer: Informer,
    private readonly traffic: TrafficSource,
    private readonly recorder: EventRecorder,
    private readonly opts: HttpScalerOptions,
  ) {}

  /** The HTTPScaledObjects of a namespace that route to a Service or scale a Deployment. */
  keysFor(namespace: string, match: { service?: string; deployment?: string }): string[] {
    return this.informer
      .list()
      .filter((o) => o.metadata.namespace === namespace)
      .filter((o) => {
        const ref = (o.spec as any)?.scaleTargetRef ?? {};
        return (match.service !== undefined && ref.service === match.service) || (match.deployment !== undefined && ref.name === match.deployment);
      })
      .map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  }

  allKeys(): string[] {
    return this.informer.list().map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  }

  /**
   * The fast path of a wake-up, run straight from a proxy's activation message rather than after
   * the key's queued reconcile (which may wait for a periodic run of the same key holding its
   * lock): a Deployment at zero whose Service has connections held or in flight is set to
   * max(1, min). Safe beside any reconcile: it writes only over 0, and the full reconcile follows.
   */
  async activate(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const httpso = await this.store.get('httpscaledobjects', namespace, name);
    if (!httpso || httpso.metadata.deletionTimestamp) return;
    const scaling = httpScaling(httpso);
    const deployment = scaling.targetName ? await this.store.get('deployments', namespace, scaling.targetName) : null;
    if (!deployment || ((deployment.spec as any)?.replicas ?? 1) !== 0) return;
    const traffic = await this.traffic.read(namespace, scaling.service, Date.now());
    if (traffic.held + traffic.inFlight === 0) return;
    const to = Math.min(Math.max(1, scaling.maxReplicas), Math.max(1, scaling.minReplicas));
    await this.scale(httpso, deployment, 0, to, traffic.held + traffic.inFlight, scaling.metric.type);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const httpso = await this.store.get('httpscaledobjects', namespace, name);
    if (!httpso) return;
    if (httpso.metadata.deletionTimestamp) return this.finalize(httpso);
    if (!(httpso.metadata.finalizers ?? []).includes(HTTPSO_FINALIZER)) {
      try {
        await this.store.guaranteedUpdate('httpscaledobjects', namespace, name, (o) => {
          if (o.metadata.deletionTimestamp || (o.metadata.finalizers ?? []).includes(HTTPSO_FINALIZER)) return null;
          o.metadata.finalizers = [...(o.metadata.finalizers ?? []), HTTPSO_FINALIZER];
          return o;
        });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      return { requeueAfterMs: 1 };
    }
    const scaling = httpScaling(httpso);
    const now = Date.now();
    const [deployment, service] = await Promise.all([
      scaling.targetName ? this.store.get('deployments', namespace, scaling.targetName) : null,
      scaling.service ? this.store.get('services', namespace, scaling.service) : null,
    ]);
    if (!deployment || !service) {
      const what = !deployment ? `deployments.apps "${scaling.targetName}"` : `services "${scaling.service}"`;
      const message = `the scale target is not available: ${what} not found`;
      if (await this.writeStatus(httpso, scaling, { status: 'False', reason: 'FailedGetScale', message })) await this.recorder.warning(httpso, 'FailedGetScale', message);
      return { requeueAfterMs: this.opts.syncMs };
    }

    const traffic = await this.traffic.read(namespace, scaling.service, now);
    const current = (deployment.spec as any)?.replicas ?? 1;
    await this.traffic.original(httpso.metadata.uid!, current);
    // The recommendations of the period, with this one: for stabilization next rounds.
    const probe = decideReplicas({ scaling, traffic, currentReplicas: current, createdAt: Date.parse(httpso.metadata.creationTimestamp ?? '') || now, now, recent: [] });
    const recent = await this.traffic.remember(namespace, name, probe.recommendation, now, scaling.scaledownPeriodMs);
    const decision = decideReplicas({ scaling, traffic, currentReplicas: current, createdAt: Date.parse(httpso.metadata.creationTimestamp ?? '') || now, now, recent });

    if (decision.desired !== current) await this.scale(httpso, deployment, current, decision.desired, decision.metricValue, scaling.metric.type);
    await this.writeStatus(httpso, scaling, { status: 'True', reason: 'Reconciled', message: 'HTTPScaledObject is reconciled: its Deployment scales on its Service\'s traffic' });
    const next = decision.idleInMs !== undefined ? Math.min(this.opts.syncMs, decision.idleInMs + 50) : this.opts.syncMs;
    return { requeueAfterMs: Math.max(50, next) };
  }

  /**
   * The object is being deleted: its Deployment gets back the size it had before (KEDA's
   * restoreToOriginalReplicaCount, which the add-on sets), then the finalizer goes.
   */
  private async finalize(httpso: KubeObject): Promise<ReconcileResult> {
    const { namespace, name, uid } = httpso.metadata;
    if (!(httpso.metadata.finalizers ?? []).includes(HTTPSO_FINALIZER)) return;
    const scaling = httpScaling(httpso);
    const deployment = scaling.targetName ? await this.store.get('deployments', namespace, scaling.targetName) : null;
    if (deployment) {
      const current = (deployment.spec as any)?.replicas ?? 1;
      // Nothing recorded (never reconciled): the current size is the original one.
      const original = await this.traffic.original(uid!, current);
      if (current !== original) {
        await this.store.guaranteedUpdate('deployments', namespace, scaling.targetName, (d) => {
          if (((d.spec as any)?.replicas ?? 1) !== current) return null;
          (d.spec as any).replicas = original;
          return d;
        }).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
      }
    }
    try {
      await this.store.guaranteedUpdate('httpscaledobjects', namespace, name!, (o) => {
        if (!(o.metadata.finalizers ?? []).includes(HTTPSO_FINALIZER)) return null;
        o.metadata.finalizers = o.metadata.finalizers!.filter((f) => f !== HTTPSO_FINALIZER);
        return o;
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await this.traffic.forgetOriginal(uid!, namespace!, name!);
  }

  private async scale(httpso: KubeObject, deployment: KubeObject, from: number, to: number, metricValue: number, metric: string): Promise<void> {
    const { namespace, name } = deployment.metadata;
    let wrote = false;
    try {
      await this.store.guaranteedUpdate('deployments', namespace, name!, (d) => {
        // Written only over the size the decision was made on: a user's or another writer's change wins, and the next round decides again.
        wrote = false;
        if (((d.spec as any)?.replicas ?? 1) !== from) return null;
        (d.spec as any).replicas = to;
        wrote = true;
        return d;
      });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
    if (!wrote) return;
    const target = `apps/v1.Deployment ${namespace}/${name}`;
    if (from === 0) await this.recorder.normal(httpso, 'KEDAScaleTargetActivated', `Scaled ${target} from ${from} to ${to}, triggered by ${metric}`);
    else if (to === 0) await this.recorder.normal(httpso, 'KEDAScaleTargetDeactivated', `Deactivated ${target} from ${from} to ${to}`);
    else await this.recorder.normal(httpso, 'SuccessfulRescale', `New size: ${to}; reason: ${metric} ${metricValue} ${to > from ? 'above' : 'below'} target`);
  }

  /** Status as KEDA's operator writes it; true when the Ready condition changed. */
  private async writeStatus(httpso: KubeObject, scaling: ReturnType<typeof httpScaling>, ready: { status: string; reason: string; message: string }): Promise<boolean> {
    const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status = {
      ...(httpso.status ?? {}),
      ...targetStatus(scaling, httpso),
      conditions: setCondition((httpso.status as any)?.conditions, { type: READY, ...ready, observedGeneration: httpso.metadata.generation ?? 1 }, stamp),
    };
    if (deepEqual(httpso.status ?? {}, status)) return false;
    const before = ((httpso.status as any)?.conditions ?? []).find((c: any) => c.type === READY);
    try {
      await this.store.update('httpscaledobjects', { ...httpso, status }, { subresource: 'status' });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return false;
      throw err;
    }
    return before?.status !== ready.status || before?.reason !== ready.reason;
  }
}
