// The Deployment controller: one ReplicaSet per template (named by its hash), rolled from old to
// new by the strategy, with revisions, history limits and status. Decisions come from plan.ts.
import type { Deployment, ReplicaSet } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import { isAlreadyExists, isNotFound } from '../../../shared/errors.ts';
import { deepEqual, now } from '../../../shared/util.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import {
  CHANGE_CAUSE, DESIRED_REPLICAS, MAX_REPLICAS, REVISION, TEMPLATE_HASH,
  byCreation, calculateStatus, msUntilDeadline, newReplicaSetTarget, oldReplicaSetTargets,
  proportionalScale, revisionOf, stripHash, surgeAndUnavailable, templateHash,
} from './plan.ts';

export class DeploymentController {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const d = await this.store.get<Deployment>('deployments', namespace, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const all = await this.ownedReplicaSets(d);
    const { newRS, created } = await this.findOrCreateNewRS(d, all);
    const current = created ? [...all, newRS!] : all;
    const olds = current.filter((rs) => rs !== newRS && rs.metadata.uid !== newRS?.metadata.uid);

    if (d.spec.paused) {
      await this.scaleOnly(d, current, newRS);
    } else if (d.spec.strategy?.type === 'Recreate') {
      await this.recreate(d, olds, newRS!);
    } else {
      await this.rollingUpdate(d, current, olds, newRS!);
    }
    await this.cleanupHistory(d, olds);
    const fresh = await this.ownedReplicaSets(d);
    const freshNew = fresh.find((rs) => rs.metadata.uid === newRS?.metadata.uid);
    const updated = await this.writeStatus(d, fresh, freshNew, created);
    const wait = msUntilDeadline(updated, Date.now());
    return wait ? { requeueAfterMs: wait } : undefined;
  }

  private async ownedReplicaSets(d: Deployment): Promise<ReplicaSet[]> {
    const refs = (await this.store.dependentsOf(d.metadata.uid!)).filter((r) => r.resource === 'replicasets');
    const out: ReplicaSet[] = [];
    for (const ref of refs) {
      const rs = await this.store.get<ReplicaSet>('replicasets', ref.namespace, ref.name);
      const owner = rs?.metadata.ownerReferences?.find((o) => o.controller);
      if (rs && owner?.uid === d.metadata.uid && !rs.metadata.deletionTimestamp) out.push(rs);
    }
    return out.sort(byCreation);
  }

  /** The ReplicaSet whose template equals the Deployment's; created (with the next revision) if none. */
  private async findOrCreateNewRS(d: Deployment, all: ReplicaSet[]): Promise<{ newRS?: ReplicaSet; created: boolean }> {
    const wanted = stripHash(d.spec.template);
    const maxRevision = Math.max(0, ...all.map(revisionOf));
    const existing = all.filter((rs) => deepEqual(stripHash(rs.spec.template), wanted)).sort(byCreation)[0];
    if (existing) {
      // An old template that became current again (a rollback) takes the next revision.
      const oldsMax = Math.max(0, ...all.filter((rs) => rs !== existing).map(revisionOf));
      const revision = revisionOf(existing) > oldsMax ? revisionOf(existing) : oldsMax + 1;
      const updated = await this.syncAnnotations(d, existing, revision);
      return { newRS: updated, created: false };
    }
    if (d.spec.paused) return { newRS: undefined, created: false };
    let collisionCount = d.status?.collisionCount ?? 0;
    for (;;) {
      const hash = templateHash(d.spec.template, collisionCount);
      const template = structuredClone(d.spec.template);
      template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [TEMPLATE_HASH]: hash } };
      const { maxSurge } = surgeAndUnavailable(d);
      const replicas = d.spec.replicas ?? 1;
      const rs: ReplicaSet = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace,
          labels: { ...template.metadata.labels },
          annotations: {
            [REVISION]: String(maxRevision + 1),
            [DESIRED_REPLICAS]: String(replicas),
            [MAX_REPLICAS]: String(replicas + maxSurge),
            ...(d.metadata.annotations?.[CHANGE_CAUSE] ? { [CHANGE_CAUSE]: d.metadata.annotations[CHANGE_CAUSE] } : {}),
          },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name!, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: {
          replicas: 0,
          minReadySeconds: d.spec.minReadySeconds,
          selector: { ...d.spec.selector, matchLabels: { ...d.spec.selector.matchLabels, [TEMPLATE_HASH]: hash } },
          template,
        },
      };
      if (d.spec.minReadySeconds === undefined) delete rs.spec.minReadySeconds;
      // The first ReplicaSet of a Deployment starts at full size; a rollout grows it step by step.
      const olds = all.reduce((s, x) => s + (x.spec.replicas ?? 0), 0);
      rs.spec.replicas = olds === 0 ? replicas : 0;
      try {
        const created = await this.store.create<ReplicaSet>('replicasets', rs);
        // As Kubernetes: an event only for a ReplicaSet created with pods (a rollout's starts at 0).
        if (created.spec.replicas) await this.events.normal(d, 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${created.spec.replicas}`);
        await this.setRevision(d, maxRevision + 1);
        return { newRS: created, created: true };
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        // A name taken by a ReplicaSet with another template: hash again with a new collisionCount.
        const other = await this.store.get<ReplicaSet>('replicasets', d.metadata.namespace, rs.metadata.name!);
        if (other && deepEqual(stripHash(other.spec.template), wanted) && other.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid)) {
          // Created by an earlier attempt that may have died before recording the revision.
          return { newRS: await this.syncAnnotations(d, other, Math.max(revisionOf(other), maxRevision)), created: false };
        }
        collisionCount++;
        await this.store.guaranteedUpdate<Deployment>('deployments', d.metadata.namespace, d.metadata.name!, (cur) => {
          cur.status = { ...cur.status, collisionCount };
          return cur;
        }, { subresource: 'status' });
      }
    }
  }

  private async syncAnnotations(d: Deployment, rs: ReplicaSet, revision: number): Promise<ReplicaSet> {
    const { maxSurge } = surgeAndUnavailable(d);
    const replicas = d.spec.replicas ?? 1;
    const wanted: Record<string, string> = {
      [REVISION]: String(revision),
      [DESIRED_REPLICAS]: String(replicas),
      [MAX_REPLICAS]: String(replicas + maxSurge),
    };
    const cause = d.metadata.annotations?.[CHANGE_CAUSE];
    if (cause) wanted[CHANGE_CAUSE] = cause;
    const minReady = d.spec.minReadySeconds;
    const needs = Object.entries(wanted).some(([k, v]) => rs.metadata.annotations?.[k] !== v) || rs.spec.minReadySeconds !== minReady;
    if (needs) {
      rs = await this.store.guaranteedUpdate<ReplicaSet>('replicasets', rs.metadata.namespace, rs.metadata.name!, (cur) => {
        cur.metadata.annotations = { ...cur.metadata.annotations, ...wanted };
        if (minReady === undefined) delete cur.spec.minReadySeconds;
        else cur.spec.minReadySeconds = minReady;
        return cur;
      });
    }
    await this.setRevision(d, revision);
    return rs;
  }

  private async setRevision(d: Deployment, revision: number): Promise<void> {
    if (d.metadata.annotations?.[REVISION] === String(revision)) return;
    await this.store.guaranteedUpdate<Deployment>('deployments', d.metadata.namespace, d.metadata.name!, (cur) => {
      if (cur.metadata.annotations?.[REVISION] === String(revision)) return null;
      cur.metadata.annotations = { ...cur.metadata.annotations, [REVISION]: String(revision) };
      return cur;
    });
  }

  private async scaleRS(d: Deployment, rs: ReplicaSet, replicas: number): Promise<void> {
    if ((rs.spec.replicas ?? 0) === replicas) return;
    const { maxSurge } = surgeAndUnavailable(d);
    const desired = d.spec.replicas ?? 1;
    await this.store.guaranteedUpdate<ReplicaSet>('replicasets', rs.metadata.namespace, rs.metadata.name!, (cur) => {
      cur.spec.replicas = replicas;
      cur.metadata.annotations = { ...cur.metadata.annotations, [DESIRED_REPLICAS]: String(desired), [MAX_REPLICAS]: String(desired + maxSurge) };
      return cur;
    });
    const verb = replicas > (rs.spec.replicas ?? 0) ? 'up' : 'down';
    await this.events.normal(d, 'ScalingReplicaSet', `Scaled ${verb} replica set ${rs.metadata.name} from ${rs.spec.replicas ?? 0} to ${replicas}`);
    rs.spec.replicas = replicas;
  }

  /** Resized while a rollout is under way (or paused): spread the change proportionally. */
  private async scaleOnly(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const active = all.filter((rs) => (rs.spec.replicas ?? 0) > 0);
    if (active.length === 0 && newRS) return this.scaleRS(d, newRS, d.spec.replicas ?? 1);
    if (active.length === 1) return this.scaleRS(d, active[0], d.spec.replicas ?? 1);
    const sizes = proportionalScale(d, active);
    for (const rs of active) if (sizes.has(rs.metadata.name!)) await this.scaleRS(d, rs, sizes.get(rs.metadata.name!)!);
  }

  private async rollingUpdate(d: Deployment, all: ReplicaSet[], olds: ReplicaSet[], newRS: ReplicaSet): Promise<void> {
    const replicas = d.spec.replicas ?? 1;
    const activeOlds = olds.filter((rs) => (rs.spec.replicas ?? 0) > 0);
    // A resize in the middle of a rollout scales every active ReplicaSet in proportion.
    const total = all.reduce((s, rs) => s + (rs.spec.replicas ?? 0), 0);
    const desiredAnnotation = Number(newRS.metadata.annotations?.[DESIRED_REPLICAS] ?? replicas);
    if (activeOlds.length && desiredAnnotation !== replicas && total > 0) {
      return this.scaleOnly(d, all, newRS);
    }
    const target = newReplicaSetTarget(d, all, newRS);
    if (target !== (newRS.spec.replicas ?? 0)) await this.scaleRS(d, newRS, target);
    const targets = oldReplicaSetTargets(d, all, olds, newRS);
    for (const rs of olds) if (targets.has(rs.metadata.name!)) await this.scaleRS(d, rs, targets.get(rs.metadata.name!)!);
  }

  private async recreate(d: Deployment, olds: ReplicaSet[], newRS: ReplicaSet): Promise<void> {
    for (const rs of olds) await this.scaleRS(d, rs, 0);
    // New pods start only once every old pod is gone.
    const oldPodsLeft = olds.some((rs) => (rs.status?.replicas ?? 0) > 0 || (rs.spec.replicas ?? 0) > 0);
    if (!oldPodsLeft) await this.scaleRS(d, newRS, d.spec.replicas ?? 1);
  }

  /** Keeps at most revisionHistoryLimit old, scaled-down ReplicaSets. */
  private async cleanupHistory(d: Deployment, olds: ReplicaSet[]): Promise<void> {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const idle = olds.filter((rs) => (rs.spec.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0).sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      await this.store.delete('replicasets', rs.metadata.namespace, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid } }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  private async writeStatus(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined, created: boolean): Promise<Deployment> {
    return this.store.guaranteedUpdate<Deployment>('deployments', d.metadata.namespace, d.metadata.name!, (cur) => {
      if (cur.metadata.uid !== d.metadata.uid) return null;
      // The spec changed while this reconcile acted on the older one: a status computed from these
      // ReplicaSets would claim the new generation observed (and the rollout done) before it began.
      // The change's own reconcile writes the status.
      if ((cur.metadata.generation ?? 1) !== (d.metadata.generation ?? 1)) return null;
      const status = calculateStatus({ d: cur, all, newRS, nowIso: now(), newRSCreated: created });
      if (deepEqual(status, cur.status)) return null;
      cur.status = status;
      return cur;
    }, { subresource: 'status' });
  }
}
