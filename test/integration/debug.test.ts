// kubectl debug with the real kubectl on a real Docker node: an ephemeral container added through
// pods/ephemeralcontainers runs once in its target's process namespace (its `ps` shows the
// target's command), is shown by describe and in ephemeralContainerStatuses, and its logs are
// served; the subresource refuses what Kubernetes refuses (changes, removals, duplicate names,
// ports) with Kubernetes' words; --copy-to makes a copy with a debug container (and
// --share-processes a shared process namespace); `debug node/NAME` is refused by baseline in
// `default` and runs in a namespace labelled privileged, with the node's / at /host.
import test from 'ava';
import Docker from 'dockerode';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';
import { kubectlInTerminal } from '../helpers/terminal.ts';

const docker = new Docker();
const node = dockerNode('debug', { WHARF_AGENT_RESYNC: '2s' });
const work = mkdtempSync(join(tmpdir(), 'wharf-debug-'));
let cluster: Cluster;

const kubectl = kubectlRunner(() => ({ server: cluster.apiUrls[0], cacheDir: join(work, 'cache'), kubeconfig: join(work, 'none') }));
const { ok, fails } = kubectlAssertions(kubectl);

const PRIVILEGED_NS = 'node-debug';
/** The target's command, which the debug container's `ps` must show. */
const TARGET_CMD = ['sleep', '3601'];

async function getPod(name: string, namespace = 'default'): Promise<any> {
  return (await cluster.api.get(`/api/v1/namespaces/${namespace}/pods/${name}`)).body;
}

async function createPod(name: string, spec: Record<string, any>, namespace = 'default'): Promise<void> {
  const res = await cluster.api.post(`/api/v1/namespaces/${namespace}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { terminationGracePeriodSeconds: 0, ...spec } });
  if (res.status !== 201) throw new Error(`pod ${name}: ${JSON.stringify(res.body)}`);
}

async function waitRunning(name: string, namespace = 'default'): Promise<any> {
  return eventually(async () => {
    const pod = await getPod(name, namespace);
    return pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((s: any) => s.state?.running) ? pod : undefined;
  }, { timeoutMs: 30_000, message: `${namespace}/${name} running`, detail: () => cluster.dumpLogs() });
}

/** The ephemeral container's status once it has terminated (they run once). */
async function ephemeralTerminated(pod: string, container: string, namespace = 'default'): Promise<any> {
  return eventually(async () => {
    const st = ((await getPod(pod, namespace)).status?.ephemeralContainerStatuses ?? []).find((s: any) => s.name === container);
    return st?.state?.terminated ? st : undefined;
  }, { timeoutMs: 30_000, message: `${pod}/${container} terminated`, detail: () => cluster.dumpLogs() });
}

/** Docker containers ever made for target's ephemeral container dbg. */
const dbgInstances = async () => (await docker.listContainers({ all: true, filters: { label: [`io.wharf.node=${node.name}`, 'io.wharf.pod.name=target', 'io.wharf.container.name=dbg'] } })).length;

const ephemeralPath = (pod: string) => `/api/v1/namespaces/default/pods/${pod}/ephemeralcontainers`;

test.before(async () => {
  cluster = await startDockerCluster(node, ['busybox:latest']);
  const ns = await cluster.api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PRIVILEGED_NS, labels: { 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/warn': 'privileged' } } });
  if (ns.status !== 201) throw new Error(`namespace ${PRIVILEGED_NS}: ${JSON.stringify(ns.body)}`);
  await createPod('target', { containers: [{ name: 'app', image: 'busybox:latest', command: TARGET_CMD }, { name: 'side', image: 'busybox:latest', command: ['sleep', '3602'] }] });
  await waitRunning('target');
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
  rmSync(work, { recursive: true, force: true });
});

test.serial('kubectl debug --target adds an ephemeral container that runs once in the target\'s process namespace; logs, describe and status show it', async (t) => {
  const r = await kubectl(['debug', 'target', '--image=busybox:latest', '--target=app', '-c', 'dbg', '-v=8', '--', 'ps', 'aux']);
  t.is(r.code, 0, r.stderr);
  // What kubectl 1.32 sends: a strategic-merge PATCH of the subresource.
  t.regex(r.stderr, /PATCH https:\/\/[^ ]+\/api\/v1\/namespaces\/default\/pods\/target\/ephemeralcontainers/);
  t.regex(r.stderr, /Request Headers:[\s\S]*Content-Type: application\/strategic-merge-patch\+json/);
  t.regex(r.stdout + r.stderr, /Targeting container "app"/);

  const st = await ephemeralTerminated('target', 'dbg');
  t.is(st.state.terminated.exitCode, 0);
  t.is(st.state.terminated.reason, 'Completed');
  t.like(st, { name: 'dbg', image: 'busybox:latest', ready: false, restartCount: 0 });
  t.regex(st.containerID, /^docker:\/\//);

  // ps in the target's PID namespace: the target's process, not the sidecar's (its own namespace).
  const logs = await ok(t, 'logs', 'target', '-c', 'dbg');
  t.regex(logs, /sleep 3601/);
  t.notRegex(logs, /sleep 3602/);

  const pod = await getPod('target');
  const ec = pod.spec.ephemeralContainers.find((c: any) => c.name === 'dbg');
  t.like(ec, { name: 'dbg', image: 'busybox:latest', targetContainerName: 'app', command: ['ps', 'aux'], terminationMessagePolicy: 'File', terminationMessagePath: '/dev/termination-log' });
  t.is(pod.status.phase, 'Running', 'an ephemeral container that finished does not end the pod');
  t.true(pod.metadata.managedFields.some((m: any) => m.subresource === 'ephemeralcontainers' && m.operation === 'Update'), 'the write is recorded as the subresource\'s');
  t.is(pod.status.containerStatuses.length, 2);

  const described = await ok(t, 'describe', 'pod', 'target');
  t.regex(described, /Ephemeral Containers:\n  dbg:\n    Container ID:\s+docker:\/\//);
  t.regex(described, /Ephemeral Containers:[\s\S]*State:\s+Terminated\n\s+Reason:\s+Completed\n\s+Exit Code:\s+0/);

  // Never restarted: one instance now, and still one at the end of this file (see the last test).
  t.is(await dbgInstances(), 1);
});

test.serial('an ephemeral container that keeps running shows as running, in the target\'s PID namespace and the pod\'s network; its logs are served', async (t) => {
  await ok(t, 'debug', 'target', '--image=busybox:latest', '--target=app', '-c', 'watcher', '--', 'sh', '-c', 'echo up; exec sleep 3603');
  const st = await eventually(async () => {
    const s = ((await getPod('target')).status?.ephemeralContainerStatuses ?? []).find((x: any) => x.name === 'watcher');
    return s?.state?.running ? s : undefined;
  }, { timeoutMs: 30_000, message: 'watcher running', detail: () => cluster.dumpLogs() });
  t.truthy(st.state.running.startedAt);
  t.is(await ok(t, 'logs', 'target', '-c', 'watcher'), 'up\n');
  // In the target's namespace and the pod's network: the same IP as the pod.
  const id = st.containerID.replace('docker://', '');
  const info = await docker.getContainer(id).inspect();
  const app = (await getPod('target')).status.containerStatuses.find((s: any) => s.name === 'app').containerID.replace('docker://', '');
  t.is(info.HostConfig.PidMode, `container:${app}`);
  t.regex(String(info.HostConfig.NetworkMode), /^container:/);
  t.is(info.HostConfig.NetworkMode, (await docker.getContainer(app).inspect()).HostConfig.NetworkMode);
});

test.serial('the subresource refuses what Kubernetes refuses, in its words', async (t) => {
  const pod = await getPod('target');
  const ecs = pod.spec.ephemeralContainers;

  // Removing one.
  let res = await cluster.api.request('PUT', ephemeralPath('target'), { ...pod, spec: { ...pod.spec, ephemeralContainers: ecs.filter((c: any) => c.name !== 'dbg') } });
  t.is(res.status, 422);
  t.like(res.body, { kind: 'Status', reason: 'Invalid', code: 422, details: { name: 'target', kind: 'Pod' } });
  t.is(res.body.message, 'Pod "target" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed\n');

  // Changing one.
  res = await cluster.api.request('PATCH', ephemeralPath('target'), { spec: { ephemeralContainers: [{ name: 'dbg', image: 'busybox:1.36' }] } }, 'application/strategic-merge-patch+json');
  t.is(res.status, 422);
  t.regex(res.body.message, /^Pod "target" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be changed\n/);

  // A name another container has.
  res = await cluster.api.request('PATCH', ephemeralPath('target'), { spec: { ephemeralContainers: [{ name: 'app', image: 'busybox:latest', terminationMessagePolicy: 'File' }] } }, 'application/strategic-merge-patch+json');
  t.is(res.status, 422);
  t.is(res.body.message, `Pod "target" is invalid: spec.ephemeralContainers[${ecs.length}].name: Duplicate value: "app"`);

  // Ports, probes, resources, lifecycle; a target that is not a container of the pod.
  res = await cluster.api.request('PATCH', ephemeralPath('target'), {
    spec: { ephemeralContainers: [{ name: 'bad', image: 'busybox:latest', ports: [{ containerPort: 80 }], readinessProbe: { exec: { command: ['true'] } }, resources: { limits: { cpu: '1' } }, targetContainerName: 'nope' }] },
  }, 'application/strategic-merge-patch+json');
  t.is(res.status, 422);
  const i = ecs.length;
  t.deepEqual(res.body.details.causes.map((c: any) => `${c.field}: ${c.message}`), [
    `spec.ephemeralContainers[${i}].targetContainerName: Not found: "nope"`,
    `spec.ephemeralContainers[${i}].ports: Forbidden: cannot be set for an Ephemeral Container`,
    `spec.ephemeralContainers[${i}].resources: Forbidden: cannot be set for an Ephemeral Container`,
    `spec.ephemeralContainers[${i}].readinessProbe: Forbidden: cannot be set for an Ephemeral Container`,
  ]);

  // Through the pod itself, spec.ephemeralContainers cannot be written at all.
  res = await cluster.api.request('PATCH', '/api/v1/namespaces/default/pods/target', { spec: { ephemeralContainers: [{ name: 'sneak', image: 'busybox:latest' }] } }, 'application/strategic-merge-patch+json');
  t.is(res.status, 422);
  t.regex(res.body.message, /^Pod "target" is invalid: spec: Forbidden: pod updates may not change fields other than/);
  res = await cluster.api.post('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'born-with' }, spec: { containers: [{ name: 'a', image: 'busybox:latest' }], ephemeralContainers: [{ name: 'e', image: 'busybox:latest' }] } });
  t.is(res.status, 422);
  t.is(res.body.message, 'Pod "born-with" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create');

  // Nothing of the refused writes was stored.
  t.deepEqual((await getPod('target')).spec.ephemeralContainers, ecs);

  // kubectl prints the refusal as from Kubernetes.
  const file = join(work, 'removed.json');
  writeFileSync(file, JSON.stringify({ ...pod, spec: { ...pod.spec, ephemeralContainers: [] } }));
  const err = await fails(t, 'replace', '--raw', ephemeralPath('target'), '-f', file);
  t.regex(err, /existing ephemeral containers \\?"dbg\\?" may not be removed/);

  // The subresource in discovery.
  const resources = (await cluster.api.get('/api/v1')).body.resources;
  t.like(resources.find((r: any) => r.name === 'pods/ephemeralcontainers'), { kind: 'Pod', namespaced: true, verbs: ['get', 'patch', 'update'] });
  t.is((await cluster.api.get(ephemeralPath('target'))).body.kind, 'Pod');
});

test.serial('Pod Security applies to an ephemeral container: a privileged one is refused in default (baseline)', async (t) => {
  const res = await cluster.api.request('PATCH', ephemeralPath('target'), { spec: { ephemeralContainers: [{ name: 'priv', image: 'busybox:latest', securityContext: { privileged: true } }] } }, 'application/strategic-merge-patch+json');
  t.is(res.status, 403);
  t.is(res.body.message, 'pods "target" is forbidden: violates PodSecurity "baseline:latest": privileged (container "priv" must not set securityContext.privileged=true)');
  const err = await fails(t, 'debug', 'target', '--image=busybox:latest', '--profile=sysadmin', '-c', 'sysadmin', '--', 'true');
  t.regex(err, /violates PodSecurity "baseline:latest": privileged \(container "sysadmin" must not set securityContext.privileged=true\)/);
});

/** A debug container's command: `ps aux` every 200 ms, each listing ended by a line "---". */
const PS_LOOP = ['sh', '-c', 'while :; do ps aux; echo ---; sleep 0.2; done'];

/** The newest complete `ps` listing in a container's logs written after `after` listings (the containers may start in any order). */
async function psListing(pod: string, after: number): Promise<{ listing: string; count: number }> {
  return eventually(async () => {
    const blocks = (await kubectl(['logs', pod, '-c', 'dbg'])).stdout.split('---\n');
    const count = blocks.length - 1;
    return count > after ? { listing: blocks[count - 1]!, count } : undefined;
  }, { timeoutMs: 20_000, message: `a ps listing of ${pod}`, detail: () => cluster.dumpLogs() });
}

test.serial('kubectl debug --copy-to makes a copy of the pod with the debug container; --share-processes shares one process namespace', async (t) => {
  await ok(t, 'debug', 'target', '--copy-to=target-copy', '--image=busybox:latest', '--share-processes', '-c', 'dbg', '--', ...PS_LOOP);
  const copy = await waitRunning('target-copy');
  t.deepEqual(copy.spec.containers.map((c: any) => c.name), ['app', 'side', 'dbg']);
  t.is(copy.spec.shareProcessNamespace, true);
  t.falsy(copy.spec.ephemeralContainers, 'the copy has none of the original\'s ephemeral containers');
  // A listing begun once every container ran: it shows all the pod's processes.
  const { count } = await psListing('target-copy', 0);
  const { listing } = await psListing('target-copy', count + 1);
  t.regex(listing, /sleep 3601/);
  t.regex(listing, /sleep 3602/);

  // Without --share-processes each container has its own: the debug container sees only its own processes.
  await ok(t, 'debug', 'target', '--copy-to=target-copy2', '--image=busybox:latest', '--share-processes=false', '-c', 'dbg', '--', ...PS_LOOP);
  const copy2 = await waitRunning('target-copy2');
  t.falsy(copy2.spec.shareProcessNamespace);
  const first = await psListing('target-copy2', 0);
  const alone = await psListing('target-copy2', first.count + 1);
  t.regex(alone.listing, /ps aux/);
  t.notRegex(alone.listing, /sleep 3601|sleep 3602/);
});

test.serial('kubectl debug node/NAME: refused by baseline in default with Kubernetes\' message; runs in a privileged namespace with the node\'s / at /host', async (t) => {
  const err = await fails(t, 'debug', `node/${node.name}`, '--image=busybox:latest', '--', 'true');
  t.regex(err, /Error from server \(Forbidden\): pods "node-debugger-[^"]+" is forbidden: violates PodSecurity "baseline:latest": host namespaces \(hostNetwork=true, hostPID=true, hostIPC=true\), hostPath volumes \(volume "host-root"\)/);

  writeFileSync(join(work, 'marker'), 'on-the-node');
  const out = await ok(t, '-n', PRIVILEGED_NS, 'debug', `node/${node.name}`, '--image=busybox:latest', '--', 'cat', `/host${join(work, 'marker')}`);
  const name = /Creating debugging pod (\S+) with container/.exec(out)?.[1];
  t.truthy(name, out);
  const pod = await getPod(name!, PRIVILEGED_NS);
  t.like(pod.spec, { nodeName: node.name, hostNetwork: true, hostPID: true, hostIPC: true, restartPolicy: 'Never' });
  t.falsy(pod.spec.containers[0].securityContext?.privileged, 'the default profile does not ask for privileged');
  await eventually(async () => ((await getPod(name!, PRIVILEGED_NS)).status?.phase === 'Succeeded' ? true : undefined), { timeoutMs: 30_000, message: 'node debugger done', detail: () => cluster.dumpLogs() });
  t.is(await ok(t, '-n', PRIVILEGED_NS, 'logs', name!), 'on-the-node');
});

test.serial('authorization: patch on pods/ephemeralcontainers, which the edit role does not grant (as in Kubernetes); kubectl debug works once it is granted', async (t) => {
  await ok(t, 'create', 'serviceaccount', 'dev');
  await ok(t, 'create', 'rolebinding', 'dev-edit', '--clusterrole=edit', '--serviceaccount=default:dev');
  const token = (await ok(t, 'create', 'token', 'dev')).trim();
  const user = 'system:serviceaccount:default:dev';
  t.is((await kubectl(['auth', 'can-i', 'patch', 'pods', '--subresource=ephemeralcontainers', '--token', token])).stdout, 'no\n');
  const err = await fails(t, 'debug', 'target', '--image=busybox:latest', '-c', 'by-dev', '--token', token, '--', 'true');
  t.regex(err, new RegExp(`Error from server \\(Forbidden\\): pods "target" is forbidden: User "${user}" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "default"`));
  await ok(t, 'create', 'role', 'debugger', '--verb=patch,update,get', '--resource=pods/ephemeralcontainers');
  await ok(t, 'create', 'rolebinding', 'dev-debugger', '--role=debugger', '--serviceaccount=default:dev');
  await eventually(async () => ((await kubectl(['auth', 'can-i', 'patch', 'pods', '--subresource=ephemeralcontainers', '--token', token])).stdout === 'yes\n' ? true : undefined), { timeoutMs: 10_000, message: 'the grant is seen' });
  await ok(t, 'debug', 'target', '--image=busybox:latest', '-c', 'by-dev', '--token', token, '--', 'true');
  t.like(await ephemeralTerminated('target', 'by-dev'), { state: { terminated: { exitCode: 0 } } });
});

test.serial('an ephemeral container with a TTY: its logs are the terminal\'s one stream; one with stdin (kubectl debug -it before it attaches) waits for its input', async (t) => {
  const res = await cluster.api.request('PATCH', ephemeralPath('target'), { spec: { ephemeralContainers: [{ name: 'tty', image: 'busybox:latest', tty: true, command: ['sh', '-c', 'echo on-a-tty; test -t 1 && echo is-a-terminal'] }] } }, 'application/strategic-merge-patch+json');
  t.is(res.status, 200, JSON.stringify(res.body));
  t.like(await ephemeralTerminated('target', 'tty'), { state: { terminated: { exitCode: 0 } } });
  t.is(await ok(t, 'logs', 'target', '-c', 'tty'), 'on-a-tty\r\nis-a-terminal\r\n');
  // What `kubectl debug -it` asks for (before it attaches): a shell on an open stdin, which waits for input rather than exiting.
  await ok(t, 'debug', 'target', '--image=busybox:latest', '-c', 'shell', '-i', '-t', '--attach=false', '--', 'sh');
  const ec = (await getPod('target')).spec.ephemeralContainers.find((c: any) => c.name === 'shell');
  t.like(ec, { stdin: true, tty: true });
  const st = await eventually(async () => {
    const s = ((await getPod('target')).status?.ephemeralContainerStatuses ?? []).find((x: any) => x.name === 'shell');
    return s?.state?.running || s?.state?.terminated ? s : undefined;
  }, { timeoutMs: 30_000, message: 'shell started' });
  t.truthy(st.state.running, JSON.stringify(st.state));
  const info = await docker.getContainer(st.containerID.replace('docker://', '')).inspect();
  t.like(info.Config, { OpenStdin: true, Tty: true, StdinOnce: false });
});

test.serial('kubectl debug -it --target: a shell on a terminal, in the target\'s process namespace, sees its processes; exit ends kubectl', async (t) => {
  const term = kubectlInTerminal(['debug', '-it', 'target', '--image=busybox:latest', '--target=app', '-c', 'interactive', '--', 'sh'], { kubeconfig: cluster.kubeconfig, cacheDir: join(work, 'cache') });
  await term.see(/If you don't see a command prompt, try pressing enter\./, 'kubectl attached');
  term.type('\r');
  await term.see(/\/ # /, 'a prompt');
  term.type('ps -o args | grep -c "^sleep 360[1]"; stty size\r');
  await term.see(/\r\n1\r\n45 123\r\n/, 'the target\'s process, on a terminal of kubectl\'s size');
  term.type('exit\r');
  t.is(await term.exited, 0);
  t.like(await ephemeralTerminated('target', 'interactive'), { state: { terminated: { exitCode: 0 } } });
});

test.serial('an ephemeral container that exited is never restarted', async (t) => {
  // The tests above took many of the agent's 2 s resyncs, and each reconciled target.
  t.is(await dbgInstances(), 1);
  const st = ((await getPod('target')).status.ephemeralContainerStatuses ?? []).find((s: any) => s.name === 'dbg');
  t.is(st.restartCount, 0);
  t.truthy(st.state.terminated);
});

test.serial('a pod with ephemeral containers is still labelled through the pod, and deleting it removes every container, ephemeral ones too', async (t) => {
  await ok(t, 'label', 'pod', 'target', 'debugged=yes');
  t.is((await getPod('target')).metadata.labels.debugged, 'yes');
  await ok(t, 'delete', 'pod', 'target', '--wait=true');
  const left = await eventually(async () => {
    const list = await docker.listContainers({ all: true, filters: { label: [`io.wharf.node=${node.name}`, 'io.wharf.pod.name=target'] } });
    return list.length === 0 ? list : undefined;
  }, { timeoutMs: 30_000, message: 'every container of target removed', detail: () => cluster.dumpLogs() });
  t.deepEqual(left, []);
});
