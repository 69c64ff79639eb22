// The CronJob controller: creates a Job from jobTemplate at each scheduled time (cron syntax, in
// the CronJob's timeZone), honouring concurrencyPolicy, suspend, startingDeadlineSeconds and the
// history limits. Each run's Job is named after its scheduled minute, so two controllers (or a
// retried reconcile) can never start the same run twice: the second create is AlreadyExists.
import { CronExpressionParser } from 'cron-parser';
import type { KubeObject } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import { isAlreadyExists, isNotFound } from '../../../shared/errors.ts';
import { PermanentError, type ReconcileResult } from '../../../shared/queue/workqueue.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import { finishedCondition, type Job } from '../job/plan.ts';

type CronJob = KubeObject & {
  spec: {
    schedule: string;
    timeZone?: string;
    concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
    suspend?: boolean;
    startingDeadlineSeconds?: number;
    successfulJobsHistoryLimit?: number;
    failedJobsHistoryLimit?: number;
    jobTemplate: { metadata?: KubeObject['metadata']; spec: any };
  };
};

/** The most recent scheduled time at or before now (after `since`), and the next one after now. */
export function scheduleTimes(schedule: string, timeZone: string | undefined, sinceMs: number, nowMs: number): { due?: number; next: number } {
  const options = { currentDate: new Date(nowMs), tz: timeZone ?? 'UTC' };
  const next = CronExpressionParser.parse(schedule, options).next().getTime();
  const prev = CronExpressionParser.parse(schedule, { ...options, currentDate: new Date(nowMs + 1) }).prev().getTime();
  return { due: prev > sinceMs ? prev : undefined, next };
}

export class CronJobController {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const cj = await this.store.get<CronJob>('cronjobs', namespace, name);
    if (!cj || cj.metadata.deletionTimestamp) return;
    const jobs = await this.ownedJobs(cj);
    const active = jobs.filter((j) => !finishedCondition(j));
    await this.cleanupHistory(cj, jobs);
    const nowMs = Date.now();
    const since = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '') || nowMs;
    let times: { due?: number; next: number };
    try {
      times = scheduleTimes(cj.spec.schedule, cj.spec.timeZone, since, nowMs);
    } catch (err) {
      await this.events.warning(cj, 'InvalidSchedule', `invalid schedule: ${cj.spec.schedule}: ${(err as Error).message}`);
      throw new PermanentError(`invalid schedule ${cj.spec.schedule}`);
    }
    const tooLate = times.due !== undefined && cj.spec.startingDeadlineSeconds !== undefined && nowMs - times.due > cj.spec.startingDeadlineSeconds * 1000;
    if (times.due !== undefined && !cj.spec.suspend && !tooLate) {
      const policy = cj.spec.concurrencyPolicy ?? 'Allow';
      if (policy === 'Forbid' && active.length) {
        await this.events.normal(cj, 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      } else {
        if (policy === 'Replace') {
          for (const j of active) {
            await this.store.delete('jobs', j.metadata.namespace, j.metadata.name!, { propagationPolicy: 'Background' }).catch(ignoreNotFound);
            await this.events.normal(cj, 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
          }
        }
        await this.startJob(cj, times.due);
      }
      await this.store.guaranteedUpdate<CronJob>('cronjobs', namespace, name, (cur) => {
        cur.status = { ...cur.status, lastScheduleTime: new Date(times.due!).toISOString().replace(/\.\d{3}Z$/, 'Z') };
        return cur;
      }, { subresource: 'status' });
    }
    await this.writeActive(cj, await this.ownedJobs(cj));
    return { requeueAfterMs: Math.max(100, times.next - Date.now() + 50) };
  }

  private async startJob(cj: CronJob, scheduledMs: number): Promise<void> {
    const name = `${cj.metadata.name}-${Math.floor(scheduledMs / 60_000)}`;
    const job: Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        labels: { ...cj.spec.jobTemplate.metadata?.labels },
        annotations: { ...cj.spec.jobTemplate.metadata?.annotations, 'batch.kubernetes.io/cronjob-scheduled-timestamp': new Date(scheduledMs).toISOString() },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name!, uid: cj.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: structuredClone(cj.spec.jobTemplate.spec),
    };
    try {
      await this.store.create('jobs', job);
      await this.events.normal(cj, 'SuccessfulCreate', `Created job ${name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  private async ownedJobs(cj: CronJob): Promise<Job[]> {
    const refs = (await this.store.dependentsOf(cj.metadata.uid!)).filter((d) => d.resource === 'jobs');
    const jobs = await Promise.all(refs.map((r) => this.store.get<Job>('jobs', r.namespace, r.name)));
    return jobs.filter((j): j is Job => !!j && !j.metadata.deletionTimestamp);
  }

  private async cleanupHistory(cj: CronJob, jobs: Job[]): Promise<void> {
    const byTime = (a: Job, b: Job) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? '');
    const succeeded = jobs.filter((j) => finishedCondition(j)?.type === 'Complete').sort(byTime);
    const failed = jobs.filter((j) => finishedCondition(j)?.type === 'Failed').sort(byTime);
    const extra = [
      ...succeeded.slice(0, Math.max(0, succeeded.length - (cj.spec.successfulJobsHistoryLimit ?? 3))),
      ...failed.slice(0, Math.max(0, failed.length - (cj.spec.failedJobsHistoryLimit ?? 1))),
    ];
    for (const j of extra) {
      await this.store.delete('jobs', j.metadata.namespace, j.metadata.name!, { propagationPolicy: 'Background' }).catch(ignoreNotFound);
      await this.events.normal(cj, 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finishedCondition(j)?.type}`);
    }
  }

  private async writeActive(cj: CronJob, jobs: Job[]): Promise<void> {
    const active = jobs.filter((j) => !finishedCondition(j)).map((j) => ({ kind: 'Job', namespace: j.metadata.namespace, name: j.metadata.name, uid: j.metadata.uid, apiVersion: 'batch/v1' }));
    const lastSuccess = jobs.filter((j) => finishedCondition(j)?.type === 'Complete').map((j) => j.status?.completionTime).filter(Boolean).sort().pop();
    await this.store.guaranteedUpdate<CronJob>('cronjobs', cj.metadata.namespace, cj.metadata.name!, (cur) => {
      const status = { ...cur.status, active: active.length ? active : undefined, ...(lastSuccess ? { lastSuccessfulTime: lastSuccess } : {}) };
      if (!status.active) delete status.active;
      cur.status = status;
      return cur;
    }, { subresource: 'status' }).catch(ignoreNotFound);
  }
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}
