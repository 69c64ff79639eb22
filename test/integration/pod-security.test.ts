// Pod Security admission and the security context, end to end on real containers and with the
// real kubectl: pods that reach into their node are refused in `default` (baseline) with
// Kubernetes' words, whoever creates them; in a namespace labelled privileged they run and really
// share the node's network, PID namespace, files and engine socket, or hold the capability
// (docker inspect says so); what a container may not do (root user, writable root, privilege
// escalation, capabilities, seccomp) is applied; a subPath cannot be led out of its volume.
import test from 'ava';
import Docker from 'dockerode';
import { readlinkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, execInContainer, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const docker = new Docker();
const node = dockerNode('psa', { WHARF_AGENT_RESYNC: '2s' });
const work = mkdtempSync(join(tmpdir(), 'wharf-psa-'));
let cluster: Cluster;

const kubectl = kubectlRunner(() => ({ server: cluster.apiUrls[0], cacheDir: join(work, 'cache'), kubeconfig: join(work, 'none') }));
const { ok, fails } = kubectlAssertions(kubectl);

/** A namespace whose enforce level is privileged: pods that reach into the node may run there. */
const PRIVILEGED_NS = 'host-access';

const sleeper = (name: string, extra: Record<string, unknown> = {}) => ({ name, image: 'busybox:latest', command: ['sleep', '600'], ...extra });

/** Pods that reach into their node, and the part of the refusal each gets under baseline. */
const HOST_PODS: { name: string; spec: Record<string, any>; violation: string }[] = [
  {
    name: 'host-root',
    spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }], containers: [sleeper('c', { volumeMounts: [{ name: 'root', mountPath: '/host' }] })] },
    violation: 'hostPath volumes (volume "root")',
  },
  {
    name: 'privileged',
    spec: { containers: [sleeper('c', { securityContext: { privileged: true } })] },
    violation: 'privileged (container "c" must not set securityContext.privileged=true)',
  },
  { name: 'host-network', spec: { hostNetwork: true, containers: [sleeper('c')] }, violation: 'host namespaces (hostNetwork=true)' },
  { name: 'host-pid', spec: { hostPID: true, containers: [sleeper('c')] }, violation: 'host namespaces (hostPID=true)' },
  {
    name: 'net-admin',
    spec: { containers: [sleeper('c', { securityContext: { capabilities: { add: ['NET_ADMIN'] } } })] },
    violation: 'non-default capabilities (container "c" must not include "NET_ADMIN" in securityContext.capabilities.add)',
  },
  {
    name: 'docker-sock',
    spec: { volumes: [{ name: 'docker', hostPath: { path: '/var/run/docker.sock', type: 'Socket' } }], containers: [sleeper('c', { volumeMounts: [{ name: 'docker', mountPath: '/var/run/docker.sock' }] })] },
    violation: 'hostPath volumes (volume "docker")',
  },
];

const podManifest = (name: string, spec: Record<string, any>, namespace?: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec: { terminationGracePeriodSeconds: 0, ...spec },
});

async function getPod(namespace: string, name: string): Promise<any> {
  return (await cluster.api.get(`/api/v1/namespaces/${namespace}/pods/${name}`)).body;
}

function containerStatus(pod: any, name = 'c'): any {
  return (pod?.status?.containerStatuses ?? []).find((s: any) => s.name === name);
}

async function waitRunning(namespace: string, name: string): Promise<any> {
  return eventually(async () => {
    const pod = await getPod(namespace, name);
    return pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((s: any) => s.state?.running) ? pod : undefined;
  }, { timeoutMs: 30_000, message: `${namespace}/${name} running`, detail: () => cluster.dumpLogs() });
}

/** The running Docker container of a pod's container (role app), or its sandbox. */
async function dockerContainer(namespace: string, pod: string, container: string): Promise<Docker.ContainerInspectInfo> {
  const labels = [`io.wharf.node=${node.name}`, `io.wharf.pod.namespace=${namespace}`, `io.wharf.pod.name=${pod}`, `io.wharf.container.name=${container}`];
  const [c] = await docker.listContainers({ filters: { label: labels, status: ['running'] } });
  if (!c) throw new Error(`no running container ${container} of ${namespace}/${pod}`);
  return docker.getContainer(c.Id).inspect();
}

/** Runs a command in a pod's running container; its output (stdout and stderr). */
async function exec(namespace: string, pod: string, container: string, cmd: string[]): Promise<string> {
  return (await execInContainer((await dockerContainer(namespace, pod, container)).Id, cmd, docker)).out;
}

/** A field of /proc/self/status, as the container's process sees it. */
async function procStatus(namespace: string, pod: string, field: string, container = 'c'): Promise<string> {
  const text = await exec(namespace, pod, container, ['cat', '/proc/self/status']);
  const m = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${field} in /proc/self/status: ${text}`);
  return m[1].trim();
}

const CAP_NET_ADMIN = 12n;
const hasCapability = (hex: string, bit: bigint) => ((BigInt(`0x${hex}`) >> bit) & 1n) === 1n;

/** What the engine itself says when asked for a privileged container: its message, or undefined when it allows one. */
async function enginePrivilegedRefusal(): Promise<string | undefined> {
  const c = await docker.createContainer({ Image: 'busybox:latest', Cmd: ['true'], Labels: { 'io.wharf.node': node.name }, HostConfig: { Privileged: true } });
  try {
    await c.start();
    return undefined;
  } catch (err) {
    return String((err as any).json?.message ?? (err as Error).message).trim();
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

test.before(async () => {
  cluster = await startDockerCluster(node, ['busybox:latest']);
  const ns = await cluster.api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PRIVILEGED_NS, labels: { 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/warn': 'privileged' } } });
  if (ns.status !== 201) throw new Error(`namespace ${PRIVILEGED_NS}: ${JSON.stringify(ns.body)}`);
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
  rmSync(work, { recursive: true, force: true });
});

test.serial('in default (baseline) every pod that reaches into its node is refused with Kubernetes\' message, and nothing is stored', async (t) => {
  for (const { name, spec, violation } of HOST_PODS) {
    const res = await cluster.api.post('/api/v1/namespaces/default/pods', podManifest(name, spec));
    t.is(res.status, 403, name);
    t.like(res.body, { kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, details: { name, kind: 'pods' } });
    t.is(res.body.message, `pods "${name}" is forbidden: violates PodSecurity "baseline:latest": ${violation}`);
    t.is((await cluster.api.get(`/api/v1/namespaces/default/pods/${name}`)).status, 404, `${name} was not stored`);
  }
  // Several violations at once: each check in Kubernetes' order, as the issue quotes it.
  const all = podManifest('x', {
    hostNetwork: true,
    volumes: [{ name: 'root', hostPath: { path: '/' } }],
    containers: [sleeper('c', { securityContext: { privileged: true } })],
  });
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', all);
  t.is(res.body.message, 'pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), hostPath volumes (volume "root"), privileged (container "c" must not set securityContext.privileged=true)');
  // A dry run is admitted exactly as a write.
  t.is((await cluster.api.post('/api/v1/namespaces/default/pods?dryRun=All', all)).status, 403);
});

test.serial('kubectl prints the refusals exactly as from Kubernetes', async (t) => {
  const input = HOST_PODS.map(({ name, spec }) => JSON.stringify(podManifest(name, spec))).join('\n');
  const r = await kubectl(['create', '-f', '-'], { input });
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.is(r.stderr, HOST_PODS.map(({ name, violation }) => `Error from server (Forbidden): error when creating "STDIN": pods "${name}" is forbidden: violates PodSecurity "baseline:latest": ${violation}\n`).join(''));
});

test.serial('in a namespace labelled privileged the same pods run, and really share the node\'s network, PID namespace, files, engine socket, capability', async (t) => {
  for (const { name, spec } of HOST_PODS) {
    const res = await cluster.api.post(`/api/v1/namespaces/${PRIVILEGED_NS}/pods`, podManifest(name, spec));
    t.is(res.status, 201, `${name}: ${JSON.stringify(res.body)}`);
    t.is(res.headers.get('warning'), null, 'warn is privileged there too: no warnings');
  }

  // hostNetwork: the pod's sandbox is in the node's network namespace, and so is its container.
  const hostNet = await waitRunning(PRIVILEGED_NS, 'host-network');
  t.is(hostNet.status.podIP, '127.0.0.1', 'the node\'s address (WHARF_NODE_ADDRESS here)');
  t.is((await dockerContainer(PRIVILEGED_NS, 'host-network', 'POD')).HostConfig.NetworkMode, 'host');
  t.is((await exec(PRIVILEGED_NS, 'host-network', 'c', ['readlink', '/proc/self/ns/net'])).trim(), readlinkSync('/proc/self/ns/net'));

  // hostPID: the container's PID namespace is the node's.
  await waitRunning(PRIVILEGED_NS, 'host-pid');
  t.is((await dockerContainer(PRIVILEGED_NS, 'host-pid', 'c')).HostConfig.PidMode, 'host');
  t.is((await exec(PRIVILEGED_NS, 'host-pid', 'c', ['readlink', '/proc/self/ns/pid'])).trim(), readlinkSync('/proc/self/ns/pid'));

  // An added capability is held by the process.
  await waitRunning(PRIVILEGED_NS, 'net-admin');
  t.deepEqual((await dockerContainer(PRIVILEGED_NS, 'net-admin', 'c')).HostConfig.CapAdd, ['NET_ADMIN']);
  t.true(hasCapability(await procStatus(PRIVILEGED_NS, 'net-admin', 'CapEff'), CAP_NET_ADMIN));
  t.false(hasCapability(await procStatus(PRIVILEGED_NS, 'host-pid', 'CapEff'), CAP_NET_ADMIN), 'a pod that did not ask has no NET_ADMIN');

  // hostPath: the node's root and the engine's socket.
  await waitRunning(PRIVILEGED_NS, 'host-root');
  t.true((await dockerContainer(PRIVILEGED_NS, 'host-root', 'c')).HostConfig.Binds!.includes('/:/host'));
  writeFileSync(join(work, 'marker'), 'written-on-the-node');
  t.is(await exec(PRIVILEGED_NS, 'host-root', 'c', ['cat', `/host${join(work, 'marker')}`]), 'written-on-the-node', 'the node\'s files, through /');
  await waitRunning(PRIVILEGED_NS, 'docker-sock');
  t.true((await dockerContainer(PRIVILEGED_NS, 'docker-sock', 'c')).HostConfig.Binds!.includes('/var/run/docker.sock:/var/run/docker.sock'));
  t.is((await exec(PRIVILEGED_NS, 'docker-sock', 'c', ['sh', '-c', 'test -S /var/run/docker.sock && echo socket'])).trim(), 'socket');
});

test.serial('a privileged pod Pod Security allows: the engine\'s own answer shows on the pod (this machine\'s engine refuses --privileged)', async (t) => {
  const refusal = await enginePrivilegedRefusal();
  if (refusal === undefined) {
    // An engine that grants it: the container runs privileged.
    await waitRunning(PRIVILEGED_NS, 'privileged');
    t.true((await dockerContainer(PRIVILEGED_NS, 'privileged', 'c')).HostConfig.Privileged);
    return;
  }
  const status = await eventually(async () => {
    const s = containerStatus(await getPod(PRIVILEGED_NS, 'privileged'));
    return s?.state?.waiting?.reason === 'RunContainerError' ? s : undefined;
  }, { timeoutMs: 30_000, message: 'RunContainerError on the privileged pod', detail: () => cluster.dumpLogs() });
  t.deepEqual(status.state, { waiting: { reason: 'RunContainerError', message: refusal } });
  t.is(status.ready, false);
  const events = (await cluster.api.get(`/api/v1/namespaces/${PRIVILEGED_NS}/events`)).body.items.filter((e: any) => e.involvedObject.name === 'privileged' && e.reason === 'Failed');
  t.true(events.some((e: any) => e.type === 'Warning' && e.message === `Error: ${refusal}`), JSON.stringify(events));
  // The container the engine made and could not start is the last state, as the kubelet shows it.
  const last = await eventually(async () => containerStatus(await getPod(PRIVILEGED_NS, 'privileged'))?.lastState?.terminated, { timeoutMs: 30_000, message: 'the failed start as the last state' });
  t.like(last, { reason: 'StartError', message: refusal });
  const created = await docker.listContainers({ all: true, filters: { label: [`io.wharf.node=${node.name}`, `io.wharf.pod.name=privileged`, 'io.wharf.container.name=c'] } });
  t.true(created.length > 0);
  t.true((await docker.getContainer(created[0].Id).inspect()).HostConfig.Privileged, 'it was asked for as privileged');
});

test.serial('what a container may not do is applied: user and groups, read-only root, no-new-privileges, capabilities dropped, the runtime\'s seccomp profile', async (t) => {
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', podManifest('hardened', {
    securityContext: { runAsUser: 1000, runAsGroup: 3000, runAsNonRoot: true, supplementalGroups: [4000], seccompProfile: { type: 'RuntimeDefault' } },
    containers: [sleeper('c', { securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } })],
  }));
  t.is(res.status, 201, JSON.stringify(res.body));
  await waitRunning('default', 'hardened');
  const info = await dockerContainer('default', 'hardened', 'c');
  t.is(info.Config.User, '1000:3000');
  t.deepEqual(info.HostConfig.GroupAdd, ['4000']);
  t.true(info.HostConfig.ReadonlyRootfs);
  t.deepEqual(info.HostConfig.SecurityOpt, ['no-new-privileges']);
  t.deepEqual(info.HostConfig.CapDrop, ['ALL']);
  t.deepEqual(info.HostConfig.CapAdd, ['NET_BIND_SERVICE']);
  t.false(info.HostConfig.Privileged);
  t.is((await exec('default', 'hardened', 'c', ['id'])).trim(), 'uid=1000 gid=3000 groups=3000,4000');
  t.regex(await exec('default', 'hardened', 'c', ['sh', '-c', 'touch /written 2>&1; echo exit=$?']), /Read-only file system\nexit=1/);
  t.is(await procStatus('default', 'hardened', 'NoNewPrivs'), '1');
  t.is(await procStatus('default', 'hardened', 'Seccomp'), '2', 'a seccomp filter (the engine\'s default profile)');
  t.is(await procStatus('default', 'hardened', 'CapBnd'), '0000000000000400', 'only NET_BIND_SERVICE is left to the process');

  // Unconfined seccomp: baseline refuses it; a privileged namespace runs it without a filter.
  const unconfined = podManifest('unconfined', { containers: [sleeper('c', { securityContext: { seccompProfile: { type: 'Unconfined' } } })] });
  const refused = await cluster.api.post('/api/v1/namespaces/default/pods', unconfined);
  t.is(refused.body.message, 'pods "unconfined" is forbidden: violates PodSecurity "baseline:latest": seccompProfile (container "c" must not set securityContext.seccompProfile.type to "Unconfined")');
  t.is((await cluster.api.post(`/api/v1/namespaces/${PRIVILEGED_NS}/pods`, unconfined)).status, 201);
  await waitRunning(PRIVILEGED_NS, 'unconfined');
  t.deepEqual((await dockerContainer(PRIVILEGED_NS, 'unconfined', 'c')).HostConfig.SecurityOpt, ['seccomp=unconfined']);
  t.is(await procStatus(PRIVILEGED_NS, 'unconfined', 'Seccomp'), '0');
});

test.serial('runAsNonRoot with an image that runs as root: the container is not started, CreateContainerConfigError in the kubelet\'s words', async (t) => {
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', podManifest('nonroot', { securityContext: { runAsNonRoot: true }, containers: [sleeper('c')] }));
  t.is(res.status, 201);
  const uid = res.body.metadata.uid;
  const waiting = await eventually(async () => {
    const w = containerStatus(await getPod('default', 'nonroot'))?.state?.waiting;
    return w?.reason === 'CreateContainerConfigError' ? w : undefined;
  }, { timeoutMs: 30_000, message: 'CreateContainerConfigError', detail: () => cluster.dumpLogs() });
  t.is(waiting.message, `container has runAsNonRoot and image will run as root (pod: "nonroot_default(${uid})", container: c)`);
  const made = await docker.listContainers({ all: true, filters: { label: [`io.wharf.node=${node.name}`, 'io.wharf.pod.name=nonroot', 'io.wharf.container.name=c'] } });
  t.is(made.length, 0, 'no container was created');
  // With a non-root user the same pod runs.
  await cluster.api.post('/api/v1/namespaces/default/pods', podManifest('nonroot-ok', { securityContext: { runAsNonRoot: true, runAsUser: 65534 }, containers: [sleeper('c')] }));
  await waitRunning('default', 'nonroot-ok');
  t.is((await exec('default', 'nonroot-ok', 'c', ['id', '-u'])).trim(), '65534');
});

test.serial('a Deployment of hostPath pods in default is warned about, creates no pod, and says why: ReplicaFailure and FailedCreate events', async (t) => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'smuggler' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'smuggler' } },
      template: {
        metadata: { labels: { app: 'smuggler' } },
        spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }], containers: [sleeper('c', { volumeMounts: [{ name: 'root', mountPath: '/host' }] })] },
      },
    },
  };
  const r = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(deployment) });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'deployment.apps/smuggler created\n');
  t.is(r.stderr, 'Warning: would violate PodSecurity "baseline:latest": hostPath volumes (volume "root")\n');

  const forbidden = /^pods "smuggler-[a-z0-9]+-[a-z0-9]{5}" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes \(volume "root"\)$/;
  const rs = await eventually(async () => {
    const items = (await cluster.api.get('/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dsmuggler')).body.items ?? [];
    return items.find((x: any) => (x.status?.conditions ?? []).some((c: any) => c.type === 'ReplicaFailure')) ?? undefined;
  }, { timeoutMs: 30_000, message: 'ReplicaFailure on the ReplicaSet', detail: () => cluster.dumpLogs() });
  const failure = rs.status.conditions.find((c: any) => c.type === 'ReplicaFailure');
  t.like(failure, { status: 'True', reason: 'FailedCreate' });
  t.regex(failure.message, forbidden);
  t.is(rs.status.replicas, 0);

  const events = await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/namespaces/default/events')).body.items.filter((e: any) => e.involvedObject.kind === 'ReplicaSet' && e.involvedObject.name === rs.metadata.name && e.reason === 'FailedCreate');
    return items.length ? items : undefined;
  }, { timeoutMs: 10_000, message: 'FailedCreate events' });
  t.is(events[0].type, 'Warning');
  t.regex(events[0].message, new RegExp(`^Error creating: ${forbidden.source.slice(1)}`));

  const d = await eventually(async () => {
    const got = (await cluster.api.get('/apis/apps/v1/namespaces/default/deployments/smuggler')).body;
    return (got.status?.conditions ?? []).some((c: any) => c.type === 'ReplicaFailure') ? got : undefined;
  }, { timeoutMs: 30_000, message: 'ReplicaFailure on the Deployment' });
  t.like(d.status.conditions.find((c: any) => c.type === 'ReplicaFailure'), { status: 'True', reason: 'FailedCreate', message: failure.message });
  // Every create the controller tried was refused: not one pod exists.
  t.is((await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dsmuggler')).body.items.length, 0);
  const described = await ok(t, 'describe', 'replicaset', rs.metadata.name);
  t.regex(described, /ReplicaFailure\s+True\s+FailedCreate/);
  t.regex(described, /Warning\s+FailedCreate\s+.*Error creating: pods "smuggler-/);
});

test.serial('a warn label: kubectl prints the Warning and the pod is created; a stricter enforce label warns about the pods already there, then refuses new ones', async (t) => {
  await ok(t, 'create', 'namespace', 'warned');
  t.is(await ok(t, 'label', 'namespace', 'warned', 'pod-security.kubernetes.io/warn=restricted'), 'namespace/warned labeled\n');
  const restricted = (c: string) => `allowPrivilegeEscalation != false (container "${c}" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "${c}" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "${c}" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "${c}" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`;
  const run = await kubectl(['run', 'plain', '-n', 'warned', '--image=busybox:latest', '--', 'sleep', '600']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, 'pod/plain created\n');
  t.is(run.stderr, `Warning: would violate PodSecurity "restricted:latest": ${restricted('plain')}\n`);

  const label = await kubectl(['label', 'namespace', 'warned', 'pod-security.kubernetes.io/enforce=restricted']);
  t.is(label.code, 0, label.stderr);
  t.is(label.stdout, 'namespace/warned labeled\n');
  t.is(label.stderr, [
    'Warning: existing pods in namespace "warned" violate the new PodSecurity enforce level "restricted:latest"',
    'Warning: plain: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile',
    '',
  ].join('\n'));
  t.is(await fails(t, 'run', 'second', '-n', 'warned', '--image=busybox:latest'), `Error from server (Forbidden): pods "second" is forbidden: violates PodSecurity "restricted:latest": ${restricted('second')}\n`);
});

test.serial('invalid level labels are refused (422); kube-system is exempt', async (t) => {
  const err = await fails(t, 'label', 'namespace', 'warned', 'pod-security.kubernetes.io/enforce=strict', '--overwrite');
  t.is(err, 'The Namespace "warned" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted\n');
  const created = await cluster.api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bad-version', labels: { 'pod-security.kubernetes.io/warn-version': '1.30' } } });
  t.is(created.status, 422);
  t.is(created.body.message, 'Namespace "bad-version" is invalid: metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "1.30": must be "latest" or "v1.x"');

  const hostPod = podManifest('node-helper', { hostNetwork: true, containers: [sleeper('c')] });
  t.is((await cluster.api.post('/api/v1/namespaces/kube-system/pods?dryRun=All', hostPod)).status, 201, 'kube-system is exempt');
  const labelled = await kubectl(['label', 'namespace', 'kube-system', 'pod-security.kubernetes.io/enforce=restricted', '--dry-run=server']);
  t.is(labelled.code, 0, labelled.stderr);
  t.is(labelled.stderr, 'Warning: namespace "kube-system" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored\n');
});

test.serial('a subPath that a symlink in the volume leads out of it is not mounted; one inside is', async (t) => {
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', podManifest('escape', {
    volumes: [{ name: 'v', emptyDir: {} }],
    initContainers: [{ name: 'plant', image: 'busybox:latest', command: ['sh', '-c', 'mkdir -p /v/data && echo inside > /v/data/file && ln -s / /v/escape && ln -s ../../../../../../../../etc /v/up'], volumeMounts: [{ name: 'v', mountPath: '/v' }] }],
    containers: [
      sleeper('ok', { volumeMounts: [{ name: 'v', mountPath: '/data', subPath: 'data' }] }),
      sleeper('c', { volumeMounts: [{ name: 'v', mountPath: '/host', subPath: 'escape' }] }),
      sleeper('d', { volumeMounts: [{ name: 'v', mountPath: '/etc-of-host', subPath: 'up' }] }),
    ],
  }));
  t.is(res.status, 201, JSON.stringify(res.body));
  const pod = await eventually(async () => {
    const p = await getPod('default', 'escape');
    const waiting = ['c', 'd'].map((n) => containerStatus(p, n)?.state?.waiting?.reason);
    return containerStatus(p, 'ok')?.state?.running && waiting.every((r) => r === 'CreateContainerConfigError') ? p : undefined;
  }, { timeoutMs: 30_000, message: 'ok running, c and d refused', detail: () => cluster.dumpLogs() });
  t.is(containerStatus(pod, 'c').state.waiting.message, 'failed to prepare subPath for volumeMount "v" of container "c"');
  t.is(containerStatus(pod, 'd').state.waiting.message, 'failed to prepare subPath for volumeMount "v" of container "d"');
  t.is((await exec('default', 'escape', 'ok', ['cat', '/data/file'])).trim(), 'inside');
  for (const name of ['c', 'd']) {
    const made = await docker.listContainers({ all: true, filters: { label: [`io.wharf.node=${node.name}`, 'io.wharf.pod.name=escape', `io.wharf.container.name=${name}`] } });
    t.is(made.length, 0, `no container ${name} was created with the host's directory`);
  }
});
