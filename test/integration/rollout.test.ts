// Rolling updates on real containers, watched the whole time: the total never exceeds
// replicas + maxSurge and availability never drops below replicas - maxUnavailable. A rollout to
// a broken image stalls with ProgressDeadlineExceeded while the old pods keep serving, and a
// rollback restores it.
import test from 'ava';
import Docker from 'dockerode';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';

const docker = new Docker();
const node = dockerNode('rollout');
const NODE = node.name;
const V2 = `node:20-${NODE}`;
const DEPLOY = '/apis/apps/v1/namespaces/default/deployments/web';
let cluster: Cluster;

const SERVER = "process.on('SIGTERM',()=>process.exit(0));require('http').createServer((q,s)=>s.end('ok')).listen(3000)";

interface Violation {
  at: number;
  total: number;
  available: number;
}

/** Watches the Deployment's pods and checks the rollout bounds on every event. */
function watchBounds(maxTotal: number, minAvailable: number) {
  const pods = new Map<string, any>();
  const violations: Violation[] = [];
  let events = 0;
  const controller = new AbortController();
  const done = (async () => {
    // List, then watch from the list's resourceVersion (as informers do), so the bounds are only
    // ever judged against the complete set of pods.
    const listed = await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb');
    for (const p of listed.body.items) pods.set(p.metadata.name, p);
    const res = await cluster.fetch(`${cluster.apiUrls[0]}/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dweb&resourceVersion=${listed.body.metadata.resourceVersion}`, { signal: controller.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const ev = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        events++;
        if (ev.type === 'DELETED') pods.delete(ev.object.metadata.name);
        else pods.set(ev.object.metadata.name, ev.object);
        const live = [...pods.values()].filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
        const available = live.filter((p) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
        if (live.length > maxTotal || available < minAvailable) violations.push({ at: Date.now(), total: live.length, available });
      }
    }
  })().catch((err) => {
    if (!controller.signal.aborted) throw err;
  });
  return { violations, stop: () => controller.abort(), done, events: () => events };
}

async function deployment() {
  return (await cluster.api.get(DEPLOY)).body;
}

test.before(async () => {
  await docker.getImage('node:20').tag({ repo: 'node', tag: V2.split(':')[1] });
  cluster = await startDockerCluster(node, ['node:20']);
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
  await docker.getImage(V2).remove().catch(() => undefined);
});

test.serial('a rolling update across 6 replicas never breaks the surge/unavailable bounds', async (t) => {
  const res = await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 6,
      progressDeadlineSeconds: 8,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'web', image: 'node:20', command: ['node', '-e', SERVER], ports: [{ containerPort: 3000 }], readinessProbe: { tcpSocket: { port: 3000 }, periodSeconds: 1 } }],
        },
      },
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  await eventually(async () => (await deployment()).status?.availableReplicas === 6, { timeoutMs: 30_000, message: '6 available' });

  const watcher = watchBounds(7, 5);
  await new Promise((r) => setTimeout(r, 300));
  const patched = await cluster.api.patch(DEPLOY, { spec: { template: { spec: { containers: [{ name: 'web', image: V2 }] } } } }, 'application/strategic-merge-patch+json');
  t.is(patched.status, 200, JSON.stringify(patched.body));
  t.is(patched.body.metadata.generation, 2);
  const finished = await eventually(async () => {
    const d = await deployment();
    const s = d.status ?? {};
    return d.metadata.generation === s.observedGeneration && s.updatedReplicas === 6 && s.replicas === 6 && s.availableReplicas === 6 ? d : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200, message: 'rollout complete' });
  watcher.stop();
  await watcher.done;
  t.log(`${watcher.events()} pod events watched`);
  t.deepEqual(watcher.violations, []);
  t.is(finished.metadata.annotations['deployment.kubernetes.io/revision'], '2');
  const rs = (await cluster.api.get('/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb')).body.items as any[];
  t.is(rs.length, 2);
  t.deepEqual(rs.map((r) => r.spec.replicas).sort(), [0, 6]);
  t.true(finished.status.conditions.some((c: any) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable'));
  // The events read as Kubernetes': the first ReplicaSet "from 0 to 6", the rollout's one only as it grows.
  const scaling = ((await cluster.api.get('/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb')).body.items as any[])
    .filter((e) => e.reason === 'ScalingReplicaSet').map((e) => e.message as string);
  t.true(scaling.some((m) => /^Scaled up replica set web-\w+ from 0 to 6$/.test(m)), scaling.join('\n'));
  t.deepEqual(scaling.filter((m) => / to 0$/.test(m) && m.startsWith('Scaled up')), [], 'no "scaled up ... to 0"');
});

test.serial('a rollout to a broken image stalls with ProgressDeadlineExceeded while old pods serve; undo restores it', async (t) => {
  await cluster.api.patch(DEPLOY, { spec: { template: { spec: { containers: [{ name: 'web', image: 'wharf-test/broken:1' }] } } } }, 'application/strategic-merge-patch+json');
  const stalled = await eventually(async () => {
    const d = await deployment();
    return d.status?.conditions?.some((c: any) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded') ? d : undefined;
  }, { timeoutMs: 40_000, intervalMs: 300, message: 'ProgressDeadlineExceeded' });
  t.true(stalled.status.availableReplicas >= 5, 'the old pods keep serving');
  const serving = (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')).body.items.filter((p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  const answers = await Promise.all(serving.map(async (p: any) => (await fetch(`http://${p.status.podIP}:3000/`, { signal: AbortSignal.timeout(2000) })).text()));
  t.true(answers.length >= 5 && answers.every((a) => a === 'ok'));

  // kubectl rollout undo: a JSON patch restoring the previous ReplicaSet's template.
  const rs = (await cluster.api.get('/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb')).body.items as any[];
  const previous = rs.find((r) => r.metadata.annotations['deployment.kubernetes.io/revision'] === '2');
  const template = structuredClone(previous.spec.template);
  delete template.metadata.labels['pod-template-hash'];
  const undo = await cluster.api.patch(DEPLOY, [
    { op: 'replace', path: '/spec/template', value: template },
  ], 'application/json-patch+json');
  t.is(undo.status, 200);
  const restored = await eventually(async () => {
    const d = await deployment();
    const s = d.status ?? {};
    return s.updatedReplicas === 6 && s.availableReplicas === 6 && s.replicas === 6 && s.observedGeneration === d.metadata.generation ? d : undefined;
  }, { timeoutMs: 40_000, intervalMs: 300, message: 'rolled back' });
  t.is(restored.spec.template.spec.containers[0].image, V2);
  t.is(restored.metadata.annotations['deployment.kubernetes.io/revision'], '4', 'the restored template takes the next revision');
  t.true(restored.status.conditions.some((c: any) => c.type === 'Progressing' && c.status === 'True'));
});
