// The Job controller: runs pods from the template until `completions` of them succeed, at most
// `parallelism` at a time, giving up after backoffLimit failures or activeDeadlineSeconds, and
// deleting the finished Job after ttlSecondsAfterFinished.
import type { Pod } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import { isNotFound } from '../../../shared/errors.ts';
import { deepEqual, now } from '../../../shared/util.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import { ownedPods, podFromTemplate } from '../pods.ts';
import { podsToDelete } from '../replicaset/plan.ts';
import { condition, countPods, decide, ttlRemainingMs, type Job } from './plan.ts';

export class JobController {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    let job = await this.store.get<Job>('jobs', namespace, name);
    if (!job || job.metadata.deletionTimestamp) return;
    if (!job.status?.startTime && !job.spec.suspend) job = await this.writeStatus(job, { startTime: now() });
    const pods = await ownedPods(this.store, job);
    const decision = decide(job, pods, Date.now());
    switch (decision.kind) {
      case 'finished': {
        const ttl = ttlRemainingMs(job, Date.now());
        if (ttl === undefined) return;
        if (ttl > 0) return { requeueAfterMs: ttl };
        await this.store.delete('jobs', namespace, name, { propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid } }).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
        return;
      }
      case 'complete':
        await this.deletePods(countPods(pods).active);
        job = await this.writeStatus(job, { ...this.counts(pods), completionTime: now(), conditions: [...(job.status?.conditions ?? []), condition('Complete', now())] });
        await this.events.normal(job, 'Completed', 'Job completed');
        return this.afterFinish(job);
      case 'fail':
        await this.deletePods(countPods(pods).active);
        job = await this.writeStatus(job, { ...this.counts(pods), conditions: [...(job.status?.conditions ?? []), condition('Failed', now(), decision.reason, decision.message)] });
        await this.events.warning(job, decision.reason, decision.message);
        return this.afterFinish(job);
      case 'run': {
        const created: Pod[] = [];
        for (let i = 0; i < decision.create; i++) created.push(await this.createPod(job));
        if (decision.remove) await this.deletePods(podsToDelete(countPods(pods).active, decision.remove));
        await this.writeStatus(job, this.counts([...pods, ...created]));
        const deadline = job.spec.activeDeadlineSeconds;
        if (deadline !== undefined && job.status?.startTime) {
          return { requeueAfterMs: Math.max(100, Date.parse(job.status.startTime) + deadline * 1000 - Date.now() + 50) };
        }
        return;
      }
    }
  }

  private afterFinish(job: Job): ReconcileResult {
    const ttl = ttlRemainingMs(job, Date.now());
    return ttl === undefined ? undefined : { requeueAfterMs: Math.max(50, ttl) };
  }

  private counts(pods: Pod[]) {
    const c = countPods(pods);
    return { active: c.active.length, succeeded: c.succeeded, failed: c.failed, ready: c.ready };
  }

  private async createPod(job: Job): Promise<Pod> {
    const pod = podFromTemplate(job as any, 'Job', 'batch/v1');
    pod.metadata.labels = {
      ...pod.metadata.labels,
      'batch.kubernetes.io/controller-uid': job.metadata.uid!,
      'batch.kubernetes.io/job-name': job.metadata.name!,
      'controller-uid': job.metadata.uid!,
      'job-name': job.metadata.name!,
    };
    let created: Pod;
    try {
      created = await this.store.create<Pod>('pods', pod);
    } catch (err) {
      // As Kubernetes' pod control: the refusal (Pod Security, a missing namespace) is an event on the Job.
      await this.events.warning(job, 'FailedCreate', `Error creating: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
    await this.events.normal(job, 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    return created;
  }

  private async deletePods(pods: Pod[]): Promise<void> {
    await Promise.all(pods.map((p) => this.store.delete('pods', p.metadata.namespace, p.metadata.name!, { preconditions: { uid: p.metadata.uid } }).catch((err) => {
      if (!isNotFound(err)) throw err;
    })));
  }

  private async writeStatus(job: Job, patch: Record<string, unknown>): Promise<Job> {
    return this.store.guaranteedUpdate<Job>('jobs', job.metadata.namespace, job.metadata.name!, (cur) => {
      if (cur.metadata.uid !== job.metadata.uid) return null;
      const status = { ...cur.status, ...patch };
      if (deepEqual(status, cur.status)) return null;
      cur.status = status;
      return cur;
    }, { subresource: 'status' });
  }
}
