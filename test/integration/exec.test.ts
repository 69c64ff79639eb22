// Into a pod with the real kubectl: exec and attach go through the API server (authentication,
// RBAC, the pod and container checked) and its tunnel to the node agent that runs the pod, which
// drives the Docker engine.
import test from 'ava';
import Docker from 'dockerode';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';

const docker = new Docker();
const node = dockerNode('exec');
let cluster: Cluster;
const work = mkdtempSync(join(tmpdir(), 'wharf-exec-'));
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));

async function runningPod(name: string, containers: { name: string; command: string[] }[], extra: Record<string, unknown> = {}): Promise<void> {
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { terminationGracePeriodSeconds: 1, containers: containers.map((c) => ({ image: 'busybox:latest', ...c, ...extra })) },
  });
  if (res.status !== 201) throw new Error(`pod ${name}: ${JSON.stringify(res.body)}`);
  await eventually(async () => (await cluster.api.get(`/api/v1/namespaces/default/pods/${name}`)).body.status?.phase === 'Running', { timeoutMs: 60_000, message: `pod ${name} running` });
}

const SLEEP = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'];

test.before(async () => {
  cluster = await startDockerCluster(node, ['busybox:latest']);
  await runningPod('box', [{ name: 'main', command: SLEEP }, { name: 'side', command: SLEEP }]);
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
});

test.serial('a container the pod does not have is refused as Kubernetes words it', async (t) => {
  const r = await kubectl(['exec', 'box', '-c', 'nope', '--', 'true']);
  t.is(r.code, 1);
  t.regex(r.stderr, /container nope is not valid for pod box/);
  const missing = await kubectl(['exec', 'ghost', '--', 'true']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /pods "ghost" not found/);
});
