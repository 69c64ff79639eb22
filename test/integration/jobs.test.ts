// batch/v1 Jobs and CronJobs: run to completion on real containers, with parallelism; give up
// after backoffLimit or activeDeadlineSeconds; clean up after ttlSecondsAfterFinished; a CronJob
// starts a Job at its scheduled minute.
import test from 'ava';
import Docker from 'dockerode';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';

const docker = new Docker();
const node = dockerNode('jobs');
let cluster: Cluster;
const JOBS = '/apis/batch/v1/namespaces/default/jobs';

const job = (name: string, spec: Record<string, unknown>, command: string[], restartPolicy = 'Never') => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: {
    ...spec,
    template: { spec: { restartPolicy, terminationGracePeriodSeconds: 0, containers: [{ name: 'work', image: 'busybox:latest', command }] } },
  },
});

async function podsOf(name: string): Promise<any[]> {
  return (await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=job-name%3D${name}`)).body.items;
}

test.before(async () => {
  cluster = await startDockerCluster(node, ['busybox:latest']);
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
});

test.serial('a Job of 5 completions with parallelism 2 finishes exactly 5 successful pods, never more than 2 at once', async (t) => {
  const res = await cluster.api.post(JOBS, job('five', { completions: 5, parallelism: 2 }, ['sh', '-c', 'sleep 1']));
  t.is(res.status, 201, JSON.stringify(res.body));
  let maxActive = 0;
  const done = await eventually(async () => {
    const pods = await podsOf('five');
    const active = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
    maxActive = Math.max(maxActive, active);
    const j = (await cluster.api.get(`${JOBS}/five`)).body;
    return j.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
  }, { timeoutMs: 60_000, intervalMs: 100, message: 'job complete' });
  t.is(done.status.succeeded, 5);
  t.truthy(done.status.completionTime);
  const pods = await podsOf('five');
  t.is(pods.filter((p) => p.status.phase === 'Succeeded').length, 5);
  t.is(pods.length, 5);
  t.true(maxActive <= 2, `at most 2 pods at once (saw ${maxActive})`);
  t.true(pods.every((p) => p.metadata.labels['batch.kubernetes.io/job-name'] === 'five'));
});

test.serial('backoffLimit: a Job whose pods keep failing fails with BackoffLimitExceeded', async (t) => {
  await cluster.api.post(JOBS, job('doomed', { backoffLimit: 1 }, ['sh', '-c', 'exit 2']));
  const failed = await eventually(async () => {
    const j = (await cluster.api.get(`${JOBS}/doomed`)).body;
    return j.status?.conditions?.find((c: any) => c.type === 'Failed' && c.status === 'True') ? j : undefined;
  }, { timeoutMs: 30_000, message: 'job failed' });
  const cond = failed.status.conditions.find((c: any) => c.type === 'Failed');
  t.is(cond.reason, 'BackoffLimitExceeded');
  t.is(failed.status.failed, 2);
});

test.serial('activeDeadlineSeconds stops a Job that runs too long; ttlSecondsAfterFinished removes it and its pods', async (t) => {
  await cluster.api.post(JOBS, job('slow', { activeDeadlineSeconds: 2, ttlSecondsAfterFinished: 2 }, ['sleep', '600']));
  const failed = await eventually(async () => {
    const j = (await cluster.api.get(`${JOBS}/slow`)).body;
    return j.status?.conditions?.find((c: any) => c.type === 'Failed') ? j : undefined;
  }, { timeoutMs: 15_000, message: 'deadline exceeded' });
  t.is(failed.status.conditions.find((c: any) => c.type === 'Failed').reason, 'DeadlineExceeded');
  await eventually(async () => (await cluster.api.get(`${JOBS}/slow`)).status === 404 && (await podsOf('slow')).length === 0, { timeoutMs: 20_000, message: 'job collected after its TTL' });
  t.pass();
});

test.serial('a CronJob starts a Job at its scheduled minute, owned by the CronJob', async (t) => {
  const res = await cluster.api.post('/apis/batch/v1/namespaces/default/cronjobs', {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'tick' },
    spec: {
      schedule: '* * * * *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 0, containers: [{ name: 'tick', image: 'busybox:latest', command: ['true'] }] } } } },
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  const started = await eventually(async () => {
    const jobs = (await cluster.api.get(JOBS)).body.items as any[];
    return jobs.find((j) => j.metadata.ownerReferences?.[0]?.kind === 'CronJob');
  }, { timeoutMs: 75_000, intervalMs: 500, message: 'a scheduled job' });
  t.regex(started.metadata.name, /^tick-\d+$/);
  t.is(Number(started.metadata.name.split('-')[1]) * 60_000 % 60_000, 0);
  // The controller creates the Job, then records it in the CronJob's status (as Kubernetes'): one write later.
  const lastScheduleTime = await eventually(async () => (await cluster.api.get('/apis/batch/v1/namespaces/default/cronjobs/tick')).body.status?.lastScheduleTime, { timeoutMs: 10_000, message: 'lastScheduleTime' });
  t.truthy(lastScheduleTime);
  await cluster.api.delete('/apis/batch/v1/namespaces/default/cronjobs/tick');
});
