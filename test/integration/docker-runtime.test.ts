// The Docker runtime against the real local engine: no mocks. Needs the busybox:latest image
// (test/images/build.sh) and nothing from any registry. Every container carries this run's own
// node name, so parallel runs never see each other's containers, and all are removed at the end.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import test from 'ava';
import Docker from 'dockerode';
import { DockerRuntime } from '../../services/node-agent/runtime/docker.ts';
import {
  ContainerStartError,
  ImagePullError,
  LABELS,
  type ContainerSpec,
  type ObservedContainer,
  type PodIdentity,
  type SandboxSpec,
} from '../../services/node-agent/runtime/types.ts';

const docker = new Docker();
const node = `test-${randomBytes(4).toString('hex')}`;
const runtime = new DockerRuntime({ docker });

test.before(async (t) => {
  try {
    await docker.getImage('busybox:latest').inspect();
  } catch {
    t.fail('busybox:latest is missing: build it with test/images/build.sh');
  }
});

test.after.always(async () => {
  await runtime.close();
  const mine = await docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${node}`] } });
  await Promise.all(mine.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
});

function newPod(name: string, extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return { namespace: 'default', name, uid: randomUUID(), node, hostname: name, ports: [], ...extra };
}

function app(name: string, command: string[], extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return { name, role: 'app', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command, env: [], attempt: 0, ...extra };
}

async function runPod(name: string, containers: ContainerSpec[], extra: Partial<SandboxSpec> = {}) {
  const pod = newPod(name, extra);
  const sandbox = await runtime.ensureSandbox(pod);
  const ids: string[] = [];
  for (const c of containers) ids.push(await runtime.startContainer(pod, sandbox.id, c));
  return { pod, sandbox, ids };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function observed(id: string): Promise<ObservedContainer | undefined> {
  return (await runtime.listContainers(node)).find((c) => c.id === id);
}

function exited(id: string) {
  return waitFor(`container ${id.slice(0, 12)} to exit`, async () => {
    const c = await observed(id);
    return c?.state === 'exited' ? c : undefined;
  });
}

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

test.serial('describeNode reports the engine and a node address', async (t) => {
  const n = await runtime.describeNode();
  t.true(n.cpuMillis >= 1000 && n.cpuMillis % 1000 === 0);
  t.true(n.memoryBytes > 0);
  t.is(n.os, 'linux');
  t.regex(n.runtimeVersion, /^docker:\/\/\d+\./);
  t.regex(n.address, /^\d+\.\d+\.\d+\.\d+$/);
  t.truthy(n.kernelVersion);
});

test.serial('containers of a pod share localhost; the pod IP and hostPorts are reachable from the host', async (t) => {
  // Below the ephemeral range (32768+), where outgoing connections of parallel tests take ports.
  const hostPort = await freeListenPort(20000, 29999);
  const web = app('web', ['sh', '-c', 'mkdir -p /www && echo hello-wharf > /www/index.html && exec httpd -f -p 8080 -h /www']);
  const client = app('client', [
    'sh',
    '-c',
    'for i in $(seq 1 100); do wget -q -O - http://127.0.0.1:8080/ && hostname && exit 0; sleep 0.1; done; exit 1',
  ]);
  const { pod, sandbox, ids } = await runPod('web-pod', [web, client], {
    ports: [{ containerPort: 8080, hostPort, protocol: 'TCP' }],
  });
  t.regex(sandbox.ip, /^\d+\.\d+\.\d+\.\d+$/);

  const done = await exited(ids[1]!);
  t.is(done.exitCode, 0);
  const out = await readAll(await runtime.logs(ids[1]!, { follow: false, timestamps: false }));
  t.is(out, 'hello-wharf\nweb-pod\n'); // the page from localhost, then the pod's hostname

  t.is(await waitFor('pod IP', () => httpGet(`http://${sandbox.ip}:8080/`)), 'hello-wharf\n');
  t.is(await waitFor('hostPort', () => httpGet(`http://127.0.0.1:${hostPort}/`)), 'hello-wharf\n');

  // Idempotent: the running sandbox is found again, not duplicated.
  t.deepEqual(await runtime.ensureSandbox(pod), sandbox);
});

test.serial('labels and attempt round-trip through listContainers', async (t) => {
  const { pod, sandbox, ids } = await runPod('labels-pod', [app('main', ['sleep', '3600'], { attempt: 2, role: 'app' })]);
  const list = (await runtime.listContainers(node)).filter((c) => c.pod.uid === pod.uid);
  t.is(list.length, 2);

  const sb = list.find((c) => c.role === 'sandbox')!;
  t.is(sb.id, sandbox.id);
  t.is(sb.name, 'POD');
  t.is(sb.ip, sandbox.ip);
  t.is(sb.state, 'running');

  const main = list.find((c) => c.id === ids[0])!;
  t.deepEqual(main.pod, { namespace: 'default', name: 'labels-pod', uid: pod.uid, node } satisfies PodIdentity);
  t.is(main.name, 'main');
  t.is(main.role, 'app');
  t.is(main.attempt, 2);
  t.is(main.state, 'running');
  t.is(main.image, 'busybox:latest');
  t.regex(main.imageId ?? '', /^sha256:/);
  t.regex(main.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.truthy(main.startedAt);
  t.is(main.ip, undefined);

  const [info] = await docker.listContainers({ all: true, filters: { id: [ids[0]!] } });
  t.regex(info!.Names[0]!, new RegExp(`^/wharf_default_labels-pod_main_${pod.uid.replace(/-/g, '').slice(0, 8)}_2$`));

  // Starting the same attempt again (a retry after a crash) reuses the running container.
  t.is(await runtime.startContainer(pod, sandbox.id, app('main', ['sleep', '3600'], { attempt: 2 })), ids[0]);
});

test.serial('listContainers for one pod returns only that pod\'s containers, of every uid it had', async (t) => {
  const first = await runPod('filtered', [app('main', ['sleep', '3600'])]);
  const other = await runPod('filtered-other', [app('main', ['sleep', '3600'])]);
  const again = await runPod('filtered', [app('main', ['sleep', '3600'])]); // same name, a new uid
  const list = await runtime.listContainers(node, { namespace: 'default', name: 'filtered' });
  t.deepEqual([...new Set(list.map((c) => c.pod.uid))].sort(), [first.pod.uid, again.pod.uid].sort());
  t.is(list.length, 4);
  t.false(list.some((c) => c.pod.uid === other.pod.uid));
  t.is((await runtime.listContainers(node, { namespace: 'other', name: 'filtered' })).length, 0);
  t.true((await runtime.listContainers(node)).some((c) => c.pod.uid === other.pod.uid));
});

test.serial('command, args, env and workingDir follow Kubernetes semantics', async (t) => {
  const { ids } = await runPod('cmd-pod', [
    app('c', ['sh', '-c'], {
      args: ['echo "$GREETING from $(pwd) $0"', 'arg0'],
      env: [{ name: 'GREETING', value: 'hi' }],
      workingDir: '/tmp',
    }),
  ]);
  t.is((await exited(ids[0]!)).exitCode, 0);
  t.is(await readAll(await runtime.logs(ids[0]!, { follow: false, timestamps: false })), 'hi from /tmp arg0\n');
});

test.serial('a container that exits 3 is observed exited with exitCode 3', async (t) => {
  const { ids } = await runPod('exit-pod', [app('fail', ['sh', '-c', 'exit 3'])]);
  const c = await exited(ids[0]!);
  t.is(c.exitCode, 3);
  t.false(c.oomKilled);
  t.truthy(c.startedAt);
  t.truthy(c.finishedAt);
});

test.serial('a container over its memory limit is OOM-killed', async (t) => {
  // Watching the node's events, as the agent does: Docker 20.10 tells of an OOM kill that reaches
  // it after the exit by an oom event alone.
  const stop = runtime.watch(node, () => undefined);
  t.teardown(stop);
  // The hog waits a second first: containerd starts watching a container's OOM events only once it
  // runs, and of a container killed before that no part of Docker ever learns it was the OOM killer.
  const { ids } = await runPod('oom-pod', [
    app('hog', ['sh', '-c', 'sleep 1; x=a; while :; do x=$x$x; done'], { memoryBytes: 8 * 1024 * 1024 }),
  ]);
  // The first observation of it exited says OOMKilled, even where the engine tells that a moment
  // after the exit (the runtime waits for the flag or the event).
  const c = await exited(ids[0]!);
  t.true(c.oomKilled);
  t.is(c.exitCode, 137);
});

test.serial('a missing image fails with ImagePullError carrying the engine message', async (t) => {
  const pod = newPod('pull-pod');
  const sandbox = await runtime.ensureSandbox(pod);
  const err = await t.throwsAsync(runtime.startContainer(pod, sandbox.id, app('x', ['true'], { image: 'wharf-test/nope:1' })), {
    instanceOf: ImagePullError,
  });
  t.is(err?.image, 'wharf-test/nope:1');
  t.log(err?.message);
  t.notRegex(err?.message ?? '', /HTTP code/);
  t.true((err?.message.length ?? 0) > 0);

  await t.throwsAsync(runtime.startContainer(pod, sandbox.id, app('y', ['true'], { image: 'wharf-test/nope:1', imagePullPolicy: 'Never' })), {
    instanceOf: ImagePullError,
    message: /pull policy of Never/,
  });
});

test.serial('a command that cannot run fails with ContainerStartError and is observed exited', async (t) => {
  const pod = newPod('bad-cmd-pod');
  const sandbox = await runtime.ensureSandbox(pod);
  const err = await t.throwsAsync(runtime.startContainer(pod, sandbox.id, app('bad', ['/no/such/binary'])), {
    instanceOf: ContainerStartError,
  });
  t.regex(err?.message ?? '', /no such file or directory/);
  const c = (await runtime.listContainers(node)).find((x) => x.pod.uid === pod.uid && x.name === 'bad')!;
  t.is(c.state, 'exited');
  t.truthy(c.error);
  t.not(c.exitCode, 0);
});

test.serial('stop with grace 1 kills a process that ignores SIGTERM after about a second', async (t) => {
  const { ids } = await runPod('stop-pod', [app('stubborn', ['sh', '-c', 'trap "" TERM; while :; do sleep 1; done'])]);
  await waitFor('running', async () => ((await observed(ids[0]!))?.state === 'running' ? true : undefined));
  const started = Date.now();
  await runtime.stopContainer(ids[0]!, 1);
  const took = Date.now() - started;
  t.log(`stop took ${took} ms`);
  t.true(took >= 900 && took < 4000, `took ${took} ms`);
  t.is((await observed(ids[0]!))?.exitCode, 137);

  // Already stopped, and gone: both fine.
  await t.notThrowsAsync(runtime.stopContainer(ids[0]!, 1));
  await runtime.removeContainer(ids[0]!);
  await t.notThrowsAsync(runtime.removeContainer(ids[0]!));
  await t.notThrowsAsync(runtime.stopContainer(ids[0]!, 1));
  t.is(await observed(ids[0]!), undefined);
});

test.serial('an exited sandbox is replaced by a new attempt', async (t) => {
  const pod = newPod('resandbox-pod');
  const first = await runtime.ensureSandbox(pod);
  const stopStarted = Date.now();
  await runtime.stopContainer(first.id, 10);
  t.true(Date.now() - stopStarted < 5000, 'the pause container exits promptly on SIGTERM');
  const second = await runtime.ensureSandbox(pod);
  t.not(second.id, first.id);
  const sandboxes = (await runtime.listContainers(node)).filter((c) => c.pod.uid === pod.uid);
  t.is(sandboxes.length, 1);
  t.is(sandboxes[0]!.attempt, 1);
});

test.serial('a container that holds its own pod network: the only container, with the pod hostname, IP, host ports and resolver', async (t) => {
  const hostPort = await freeListenPort(20000, 29999);
  const pod = newPod('solo-pod', { ports: [{ containerPort: 8080, hostPort, protocol: 'TCP' }], dnsServers: ['10.96.0.10'], dnsSearch: ['default.svc.cluster.local'] });
  const web = app('web', ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'], { ownNetwork: pod });
  const id = await runtime.startContainer(pod, '', web);
  const mine = (await runtime.listContainers(node)).filter((c) => c.pod.uid === pod.uid);
  t.is(mine.length, 1, 'no sandbox: one container');
  t.true(mine[0]!.ownsNetwork);
  t.is(mine[0]!.role, 'app');
  const ip = mine[0]!.ip!;
  t.regex(ip, /^\d+\.\d+\.\d+\.\d+$/);
  t.is(await waitFor('pod IP', () => httpGet(`http://${ip}:8080/`)), 'solo-pod\n');
  t.is(await waitFor('hostPort', () => httpGet(`http://127.0.0.1:${hostPort}/`)), 'solo-pod\n');
  const resolv = await runtime.exec(id, ['cat', '/etc/resolv.conf'], 5000);
  t.regex(resolv.output, /search default\.svc\.cluster\.local/);
  // On a user-defined network the engine's own resolver answers and forwards to the pod's servers, as for a sandbox.
  t.deepEqual((await docker.getContainer(id).inspect()).HostConfig.Dns, ['10.96.0.10']);
  // Another container joins it as it would join a sandbox (an ephemeral container).
  const debug = await runtime.startContainer(pod, id, app('debug', ['sh', '-c', 'wget -q -O - http://127.0.0.1:8080/'], { role: 'ephemeral' }));
  t.is((await exited(debug)).exitCode, 0);
  t.is(await readAll(await runtime.logs(debug, { follow: false, timestamps: false })), 'solo-pod\n');
});

test.serial('a restarted container that holds its own pod network gets its IP back where the network assigns addresses on request', async (t) => {
  const name = `wharf-test-${randomBytes(3).toString('hex')}`;
  const subnet = `10.198.${randomBytes(1)[0]}.0/24`;
  await docker.createNetwork({ Name: name, Driver: 'bridge', IPAM: { Config: [{ Subnet: subnet }] } });
  const pinned = new DockerRuntime({ docker, network: name });
  try {
    const pod = newPod('pinned-pod');
    const first = await pinned.startContainer(pod, '', app('main', ['sleep', '3600'], { ownNetwork: pod }));
    const ip = (await pinned.listContainers(node)).find((c) => c.id === first)!.ip!;
    t.true(ip.startsWith(subnet.split('.').slice(0, 3).join('.') + '.'));
    await pinned.stopContainer(first, 0);
    const second = await pinned.startContainer(pod, '', app('main', ['sleep', '3600'], { attempt: 1, ownNetwork: { ...pod, requestedIP: ip } }));
    t.is((await pinned.listContainers(node)).find((c) => c.id === second)!.ip, ip);

    // On the default network (the engine chose its subnet) the address cannot be asked for: a new one, not a failure.
    const loose = newPod('loose-pod');
    const a = await runtime.startContainer(loose, '', app('main', ['sleep', '3600'], { ownNetwork: loose }));
    const looseIP = (await runtime.listContainers(node)).find((c) => c.id === a)!.ip!;
    await runtime.stopContainer(a, 0);
    const b = await runtime.startContainer(loose, '', app('main', ['sleep', '3600'], { attempt: 1, ownNetwork: { ...loose, requestedIP: looseIP } }));
    t.regex((await runtime.listContainers(node)).find((c) => c.id === b)!.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/);
  } finally {
    const mine = await docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${node}`, `${LABELS.podName}=pinned-pod`] } });
    await Promise.all(mine.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    await pinned.close();
    await docker.getNetwork(name).remove().catch(() => undefined);
  }
});

test.serial('logs: tail without following ends; following receives new lines', async (t) => {
  const { ids } = await runPod('logs-pod', [
    app('talker', ['sh', '-c', 'echo oops >&2; sleep 0.2; for i in 1 2 3 4 5; do echo line$i; done; sleep 4; echo late; sleep 3600']),
  ]);
  const id = ids[0]!;
  await waitFor('line5', async () => {
    const text = await readAll(await runtime.logs(id, { follow: false, timestamps: false }));
    return text.includes('line5') ? text : undefined;
  });

  t.is(await readAll(await runtime.logs(id, { follow: false, tailLines: 2, timestamps: false })), 'line4\nline5\n');
  const all = await readAll(await runtime.logs(id, { follow: false, timestamps: false, sinceSeconds: 600 }));
  t.true(all.startsWith('oops\nline1\n'), all); // stderr interleaved with stdout
  const stamped = await readAll(await runtime.logs(id, { follow: false, tailLines: 1, timestamps: true }));
  t.regex(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line5\n$/);

  const stream = await runtime.logs(id, { follow: true, tailLines: 1, timestamps: false });
  let received = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no new line; got ${JSON.stringify(received)}`)), 10_000);
    stream.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.includes('late\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    stream.on('error', reject);
  });
  stream.destroy();
  t.is(received, 'line5\nlate\n');
});

test.serial('watch reports the pod uid when a container is killed', async (t) => {
  const changes: string[] = [];
  const stop = runtime.watch(node, (uid) => changes.push(uid));
  try {
    const { pod, ids } = await runPod('watch-pod', [app('victim', ['sleep', '3600'])]);
    await waitFor('start event', async () => (changes.includes(pod.uid) ? true : undefined));
    changes.length = 0;
    await promisify(execFile)('docker', ['kill', ids[0]!]);
    await waitFor('die event', async () => (changes.includes(pod.uid) ? true : undefined), 10_000);
    t.pass();
  } finally {
    stop();
  }
});

async function freeListenPort(from: number, to: number): Promise<number> {
  const { createServer } = await import('node:net');
  for (let i = 0; i < 50; i++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer().once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}
