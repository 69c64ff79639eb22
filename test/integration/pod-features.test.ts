// What a pod is made of, on real containers: containers of one pod share localhost and emptyDir
// volumes; init containers run first, in order; ConfigMaps and Secrets reach containers through
// env, envFrom and volumes (and a ConfigMap change reaches the mounted files); a missing reference
// shows CreateContainerConfigError until it appears.
import test from 'ava';
import Docker from 'dockerode';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, execInContainer, removeDockerNode, runningContainerId, startDockerCluster } from '../helpers/docker-node.ts';

const docker = new Docker();
const node = dockerNode('features', { WHARF_AGENT_RESYNC: '2s' });
const NODE = node.name;
let cluster: Cluster;

async function pod(name: string, namespace = 'default') {
  return (await cluster.api.get(`/api/v1/namespaces/${namespace}/pods/${name}`)).body;
}

/** Where pods that reach into the node (hostPath) may run: Pod Security enforces baseline in default. */
const HOST_ACCESS = 'host-access';

async function logsOf(name: string, container: string): Promise<string> {
  const res = await cluster.fetch(`${cluster.apiUrls[0]}/api/v1/namespaces/default/pods/${name}/log?container=${container}`);
  return res.ok ? res.text() : '';
}

async function exec(podName: string, container: string, cmd: string[]): Promise<string> {
  return (await execInContainer(await runningContainerId(podName, container, docker), cmd, docker)).out;
}

test.before(async () => {
  cluster = await startDockerCluster(node, ['busybox:latest']);
  const ns = await cluster.api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: HOST_ACCESS, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } });
  if (ns.status !== 201) throw new Error(`namespace ${HOST_ACCESS}: ${JSON.stringify(ns.body)}`);
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
});

test.serial('two containers talk over localhost and share a file through an emptyDir; init containers run first, in order', async (t) => {
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'pair' },
    spec: {
      terminationGracePeriodSeconds: 1,
      volumes: [{ name: 'shared', emptyDir: {} }],
      initContainers: [
        { name: 'first', image: 'busybox:latest', command: ['sh', '-c', 'echo one > /work/order'], volumeMounts: [{ name: 'shared', mountPath: '/work' }] },
        { name: 'second', image: 'busybox:latest', command: ['sh', '-c', 'echo two >> /work/order'], volumeMounts: [{ name: 'shared', mountPath: '/work' }] },
      ],
      containers: [
        { name: 'server', image: 'busybox:latest', command: ['sh', '-c', 'echo served-by-server > /www/index.html && httpd -f -p 8080 -h /www'], volumeMounts: [{ name: 'shared', mountPath: '/www' }] },
        { name: 'client', image: 'busybox:latest', command: ['sh', '-c', 'while :; do wget -q -O - http://localhost:8080/ && cat /www/order; sleep 1; done'], volumeMounts: [{ name: 'shared', mountPath: '/www' }] },
      ],
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  await eventually(async () => (await pod('pair')).status?.phase === 'Running', { timeoutMs: 15_000, message: 'running' });
  const p = await pod('pair');
  t.true(p.status.initContainerStatuses.every((c: any) => c.state.terminated?.exitCode === 0));
  const logs = await eventually(async () => {
    const text = await logsOf('pair', 'client');
    return text.includes('served-by-server') && text.includes('one\ntwo') ? text : undefined;
  }, { timeoutMs: 10_000, message: 'client reached the server over localhost and read the init files' });
  t.regex(logs, /served-by-server/);
});

test.serial('a pod of one container has no sandbox: one container start, the pod hostname and IP, and a restart keeps it Running with the IP it reports', async (t) => {
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'solo' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: 'busybox:latest', command: ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'] }],
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  const running = await eventually(async () => {
    const p = await pod('solo');
    return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
  }, { timeoutMs: 15_000, message: 'running with an IP' });
  const containers = await docker.listContainers({ all: true, filters: { label: ['io.wharf.pod.name=solo'] } });
  t.deepEqual(containers.map((c) => c.Labels['io.wharf.container.role']), ['app'], 'the engine started one container, no sandbox');
  const [only] = containers;
  t.is(only!.NetworkSettings.Networks[Object.keys(only!.NetworkSettings.Networks)[0]!]!.IPAddress, running.status.podIP);
  t.is((await exec('solo', 'main', ['hostname'])).trim(), 'solo');
  t.true(running.status.conditions.some((c: any) => c.type === 'PodReadyToStartContainers' && c.status === 'True'));
  const served = await eventually(async () => {
    const r = await fetch(`http://${running.status.podIP}:8080/`).catch(() => undefined);
    return r?.ok ? r.text() : undefined;
  }, { timeoutMs: 10_000, message: 'served on the pod IP' });
  t.is(served, 'solo\n');

  // The container dies: the pod restarts it with the same IP (the agent's pod network has a subnet
  // of its own, on which the engine assigns addresses on request; see docker-runtime.test.ts).
  await docker.getContainer(only!.Id).kill();
  const restarted = await eventually(async () => {
    const p = await pod('solo');
    return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.restartCount === 1 && p.status.containerStatuses[0].ready ? p : undefined;
  }, { timeoutMs: 20_000, message: 'restarted' });
  const now = (await docker.listContainers({ filters: { label: ['io.wharf.pod.name=solo'], status: ['running'] } }))[0]!;
  t.is(now.Labels['io.wharf.container.role'], 'app');
  t.is(restarted.status.podIP, running.status.podIP, 'the pod kept its IP');
  t.is(now.NetworkSettings.Networks[Object.keys(now.NetworkSettings.Networks)[0]!]!.IPAddress, restarted.status.podIP);
  t.is((await exec('solo', 'main', ['hostname'])).trim(), 'solo');
  await cluster.api.delete('/api/v1/namespaces/default/pods/solo?gracePeriodSeconds=0');
});

test.serial('ConfigMaps and Secrets through env, envFrom and volumes; a ConfigMap change reaches the mounted file', async (t) => {
  await cluster.api.post('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { color: 'blue', 'app.conf': 'level=1' } });
  await cluster.api.post('/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { password: Buffer.from('s3cret').toString('base64') } });
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'configured' },
    spec: {
      terminationGracePeriodSeconds: 1,
      volumes: [{ name: 'conf', configMap: { name: 'settings' } }, { name: 'secret', secret: { secretName: 'creds' } }],
      containers: [{
        name: 'app',
        image: 'busybox:latest',
        command: ['sh', '-c', 'echo "COLOR=$COLOR PASS=$PASS FROM_color=$CFG_color"; sleep 600'],
        env: [
          { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'settings', key: 'color' } } },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        ],
        envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
        volumeMounts: [{ name: 'conf', mountPath: '/etc/app' }, { name: 'secret', mountPath: '/etc/secret' }],
      }],
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  await eventually(async () => (await pod('configured')).status?.phase === 'Running', { timeoutMs: 15_000, message: 'running' });
  const logs = await eventually(async () => (await logsOf('configured', 'app')) || undefined, { timeoutMs: 5000, message: 'logs' });
  t.regex(logs, /COLOR=blue PASS=s3cret FROM_color=blue/);
  t.is(await exec('configured', 'app', ['cat', '/etc/app/app.conf']), 'level=1');
  t.is(await exec('configured', 'app', ['cat', '/etc/secret/password']), 's3cret');
  await cluster.api.patch('/api/v1/namespaces/default/configmaps/settings', { data: { 'app.conf': 'level=2' } });
  await eventually(async () => (await exec('configured', 'app', ['cat', '/etc/app/app.conf'])) === 'level=2', { timeoutMs: 10_000, message: 'updated file in the volume' });
  t.pass();
});

test.serial('a missing ConfigMap shows CreateContainerConfigError until it is created', async (t) => {
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'waiting' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'app', image: 'busybox:latest', command: ['sleep', '600'], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'later', key: 'x' } } }] }],
    },
  });
  t.is(res.status, 201);
  const waiting = await eventually(async () => {
    const w = (await pod('waiting')).status?.containerStatuses?.[0]?.state?.waiting;
    return w?.reason === 'CreateContainerConfigError' ? w : undefined;
  }, { timeoutMs: 10_000, message: 'CreateContainerConfigError' });
  t.is(waiting.message, 'configmap "later" not found');
  await cluster.api.post('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later' }, data: { x: '1' } });
  await eventually(async () => (await pod('waiting')).status?.phase === 'Running', { timeoutMs: 20_000, message: 'starts once the ConfigMap exists' });
  t.pass();
});

test.serial('deletion: the pod shows Terminating, its preStop hook runs before SIGTERM, and --force removes at once', async (t) => {
  // The hook's trace is read back from the node, through a hostPath: a namespace that allows it.
  const res = await cluster.api.post(`/api/v1/namespaces/${HOST_ACCESS}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'graceful' },
    spec: {
      terminationGracePeriodSeconds: 10,
      volumes: [{ name: 'out', hostPath: { path: `/tmp/wharf-prestop-${NODE}`, type: 'DirectoryOrCreate' } }],
      containers: [{
        name: 'app',
        image: 'busybox:latest',
        // On SIGTERM it records that the hook had already run, then exits.
        command: ['sh', '-c', 'trap "cat /out/hook > /out/seen-at-term 2>/dev/null; exit 0" TERM; while :; do sleep 1 & wait $!; done'],
        volumeMounts: [{ name: 'out', mountPath: '/out' }],
        lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo hook-ran > /out/hook; sleep 1'] } } },
      }],
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  await eventually(async () => (await pod('graceful', HOST_ACCESS)).status?.phase === 'Running', { timeoutMs: 15_000, message: 'running' });
  const del = await cluster.api.delete(`/api/v1/namespaces/${HOST_ACCESS}/pods/graceful`);
  t.truthy(del.body.metadata.deletionTimestamp, 'marked for deletion');
  t.is(del.body.metadata.deletionGracePeriodSeconds, 10);
  const { readFile, rm } = await import('node:fs/promises');
  await eventually(async () => (await cluster.api.get(`/api/v1/namespaces/${HOST_ACCESS}/pods/graceful`)).status === 404, { timeoutMs: 15_000, message: 'pod gone after the hook' });
  t.is((await readFile(`/tmp/wharf-prestop-${NODE}/seen-at-term`, 'utf8')).trim(), 'hook-ran');
  await rm(`/tmp/wharf-prestop-${NODE}`, { recursive: true, force: true });

  // kubectl delete --grace-period=0 --force: gone from the API at once.
  await cluster.api.post('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'forced' }, spec: { containers: [{ name: 'app', image: 'busybox:latest', command: ['sleep', '600'] }] } });
  await eventually(async () => (await pod('forced')).status?.phase === 'Running', { timeoutMs: 15_000, message: 'running' });
  const forced = await cluster.api.delete('/api/v1/namespaces/default/pods/forced', { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
  t.is(forced.status, 200);
  t.is((await cluster.api.get('/api/v1/namespaces/default/pods/forced')).status, 404);
  await eventually(async () => (await docker.listContainers({ all: true, filters: { label: ['io.wharf.pod.name=forced'] } })).length === 0, { timeoutMs: 15_000, message: 'the agent removed the forced pod\'s containers' });
});

test.serial('crash-loop back-off doubles and caps (base 1 s, cap 4 s here); a memory hog is OOMKilled', async (t) => {
  await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'crasher' },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'busybox:latest', command: ['sh', '-c', 'exit 1'] }] },
  });
  await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hog' },
    spec: {
      restartPolicy: 'Never',
      // It waits a second first: a container the OOM killer ends before containerd watches it for
      // OOM events (right after it starts) is never known to Docker as OOM-killed.
      containers: [{ name: 'app', image: 'busybox:latest', command: ['sh', '-c', 'sleep 1; x=a; while :; do x=$x$x; done'], resources: { limits: { memory: '8Mi' } } }],
    },
  });
  // The start time of each attempt, from the containers' own startedAt.
  const starts = new Map<number, number>();
  await eventually(async () => {
    const cs = (await pod('crasher')).status?.containerStatuses?.[0];
    if (!cs) return undefined;
    // Running: this is attempt restartCount, and lastState is the one before it. Waiting to be
    // restarted: lastState is the attempt that just exited, number restartCount.
    if (cs.state?.running) starts.set(cs.restartCount, Date.parse(cs.state.running.startedAt));
    const last = cs.lastState?.terminated;
    if (last) starts.set(cs.state?.running ? cs.restartCount - 1 : cs.restartCount, Date.parse(last.startedAt));
    return cs.restartCount >= 6 ? true : undefined;
  }, { timeoutMs: 40_000, intervalMs: 100, message: '6 restarts' });
  const gaps: number[] = [];
  for (let i = 1; i <= 5; i++) if (starts.has(i) && starts.has(i - 1)) gaps.push(Math.round((starts.get(i)! - starts.get(i - 1)!) / 1000));
  t.log(`seconds between starts: ${gaps.join(', ')}`);
  // Kubernetes: immediate, then base doubling to the cap. Timestamps are second-granular (±1 s),
  // and a start itself takes time on a loaded engine (CI saw 5 s for an immediate restart while the
  // whole suite ran), so a gap may run over the back-off but never short of it. Only the fifth gap
  // tells a cap from none (4 s against 8 s): it stays under 8.
  t.true(gaps.length >= 4, `gaps ${gaps}`);
  const expected = [0, 1, 2, 4, 4];
  const slack = [5, 5, 5, 5, 3];
  gaps.forEach((g, i) => t.true(g >= expected[i] - 1 && g <= expected[i] + slack[i], `gap ${i + 1}: ${g}s, expected about ${expected[i]}s`));
  t.is((await pod('crasher')).status.containerStatuses[0].lastState.terminated.reason, 'Error');

  const oom = await eventually(async () => {
    const p = await pod('hog');
    return p.status?.phase === 'Failed' ? p : undefined;
  }, { timeoutMs: 20_000, message: 'hog killed' });
  t.is(oom.status.containerStatuses[0].state.terminated.reason, 'OOMKilled');
  t.is(oom.status.containerStatuses[0].state.terminated.exitCode, 137);
});
