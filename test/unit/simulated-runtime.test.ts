import test from 'ava';
import { SimulatedRuntime } from '../../services/node-agent/runtime/simulated.ts';
import { ContainerStartError, ImagePullError, type ContainerSpec, type SandboxSpec } from '../../services/node-agent/runtime/types.ts';

const pod = (name: string, node = 'sim-1'): SandboxSpec => ({
  namespace: 'default',
  name,
  uid: `uid-${name}`,
  node,
  hostname: name,
  ports: [],
});

const spec = (name: string, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name,
  role: 'app',
  image: 'nginx:1.25',
  imagePullPolicy: 'IfNotPresent',
  env: [],
  attempt: 0,
  ...extra,
});

const tick = () => new Promise((r) => setImmediate(r));

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

test('describeNode returns the configured capacity', async (t) => {
  const rt = new SimulatedRuntime({ cpuMillis: 16000, memoryBytes: 1024 });
  const n = await rt.describeNode();
  t.is(n.cpuMillis, 16000);
  t.is(n.memoryBytes, 1024);
  t.is(n.runtimeVersion.split('://')[0], 'simulated');
  t.is((await new SimulatedRuntime().describeNode()).memoryBytes, 8 * 1024 ** 3);
});

test('sandboxes get IPs from the base and are idempotent', async (t) => {
  const rt = new SimulatedRuntime({ podIpBase: '10.9.0.250' });
  const a = await rt.ensureSandbox(pod('a'));
  const b = await rt.ensureSandbox(pod('b'));
  t.is(a.ip, '10.9.0.252');
  t.is(b.ip, '10.9.0.253');
  t.deepEqual(await rt.ensureSandbox(pod('a')), a);

  await rt.stopContainer(a.id, 30);
  const again = await rt.ensureSandbox(pod('a'));
  t.not(again.id, a.id);
  const sandboxes = (await rt.listContainers('sim-1')).filter((c) => c.pod.uid === 'uid-a');
  t.is(sandboxes.length, 1);
  t.is(sandboxes[0]!.attempt, 1);
});

test('containers run, or exit at once for `true` and `false`', async (t) => {
  const rt = new SimulatedRuntime();
  const p = pod('p');
  const sb = await rt.ensureSandbox(p);
  const run = await rt.startContainer(p, sb.id, spec('run'));
  const ok = await rt.startContainer(p, sb.id, spec('ok', { command: ['true'] }));
  const bad = await rt.startContainer(p, sb.id, spec('bad', { command: ['false'], attempt: 3 }));
  const list = await rt.listContainers('sim-1');
  const byId = new Map(list.map((c) => [c.id, c]));
  t.is(byId.get(run)?.state, 'running');
  t.like(byId.get(ok), { state: 'exited', exitCode: 0 });
  t.like(byId.get(bad), { state: 'exited', exitCode: 1, attempt: 3, name: 'bad', role: 'app' });
  t.is(list.length, 4);
  t.deepEqual(await rt.listContainers('other-node'), []);

  // Same pod, container and attempt: the running container is reused.
  t.is(await rt.startContainer(p, sb.id, spec('run')), run);

  await rt.stopContainer(run, 30);
  t.like((await rt.listContainers('sim-1')).find((c) => c.id === run), { state: 'exited', exitCode: 0 });
  await rt.removeContainer(run);
  await t.notThrowsAsync(rt.removeContainer(run));
  await t.notThrowsAsync(rt.stopContainer(run, 1));
  t.is((await rt.listContainers('sim-1')).length, 3);
});

test('images ending in :missing cannot be pulled; a missing sandbox cannot be joined', async (t) => {
  const rt = new SimulatedRuntime();
  const p = pod('p');
  const sb = await rt.ensureSandbox(p);
  await t.throwsAsync(rt.startContainer(p, sb.id, spec('x', { image: 'app:missing' })), { instanceOf: ImagePullError });
  await t.throwsAsync(rt.startContainer(p, 'nope', spec('x')), { instanceOf: ContainerStartError });
});

test('watch fires for the node whose containers change, asynchronously', async (t) => {
  const rt = new SimulatedRuntime();
  const seen: string[] = [];
  const stop = rt.watch('sim-1', (uid) => seen.push(uid));
  rt.watch('sim-2', () => t.fail('another node was notified'));
  const p = pod('w');
  const sb = await rt.ensureSandbox(p);
  t.deepEqual(seen, []);
  await tick();
  t.deepEqual(seen, ['uid-w']);

  const id = await rt.startContainer(p, sb.id, spec('c'));
  await rt.stopContainer(id, 1);
  await tick();
  t.deepEqual(seen, ['uid-w', 'uid-w', 'uid-w']);

  stop();
  await rt.removeContainer(id);
  await tick();
  t.is(seen.length, 3);
});

test('logs return a line; following ends when the container stops', async (t) => {
  const rt = new SimulatedRuntime();
  const p = pod('l');
  const sb = await rt.ensureSandbox(p);
  const id = await rt.startContainer(p, sb.id, spec('talker'));
  t.is(await readAll(await rt.logs(id, { follow: false, timestamps: false })), 'simulated container talker\n');
  t.is(await readAll(await rt.logs(id, { follow: false, tailLines: 0, timestamps: false })), '');
  t.regex(await readAll(await rt.logs(id, { follow: false, timestamps: true })), /^\d{4}-.*Z simulated container talker\n$/);

  const following = readAll(await rt.logs(id, { follow: true, timestamps: false }));
  await rt.stopContainer(id, 1);
  t.is(await following, 'simulated container talker\n');
  await t.throwsAsync(rt.logs('nope', { follow: false, timestamps: false }));
});
