// Into a pod with the real kubectl: exec and attach go through the API server (authentication,
// RBAC, the pod and container checked) and its tunnel to the node agent that runs the pod, which
// drives the Docker engine.
import test from 'ava';
import Docker from 'dockerode';
import { exec as execShell } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';
import { kubectlInTerminal } from '../helpers/terminal.ts';

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

/** A shell line with kubectl pointed at the cluster (for redirections and pipes of binary data). */
function sh(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execShell(line, { env: { ...process.env, KUBECONFIG: cluster.kubeconfig }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
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

test.serial('a container not started yet, a pod with no node and a completed pod are refused as Kubernetes words them', async (t) => {
  const create = async (name: string, spec: Record<string, unknown>) => {
    const res = await cluster.api.post('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { terminationGracePeriodSeconds: 0, ...spec } });
    if (res.status !== 201) throw new Error(`pod ${name}: ${JSON.stringify(res.body)}`);
  };
  const status = async (name: string) => (await cluster.api.get(`/api/v1/namespaces/default/pods/${name}`)).body.status ?? {};
  await create('starting', { initContainers: [{ name: 'wait', image: 'busybox:latest', command: ['sleep', '3600'] }], containers: [{ name: 'main', image: 'busybox:latest', command: SLEEP }] });
  await create('nowhere', { nodeSelector: { 'no-such': 'node' }, containers: [{ name: 'main', image: 'busybox:latest', command: SLEEP }] });
  await create('done', { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:latest', command: ['true'] }] });
  await eventually(async () => (await status('starting')).initContainerStatuses?.[0]?.state?.running, { timeoutMs: 30_000, message: 'the init container running' });
  await eventually(async () => (await status('done')).phase === 'Succeeded', { timeoutMs: 30_000, message: 'the pod completed' });

  const starting = await kubectl(['exec', 'starting', '-c', 'main', '--', 'true']);
  t.is(starting.code, 1);
  t.regex(starting.stderr, /unable to upgrade connection: container not found \("main"\)/, starting.stderr);
  const nowhere = await kubectl(['exec', 'nowhere', '--', 'true']);
  t.is(nowhere.code, 1);
  t.regex(nowhere.stderr, /pod nowhere does not have a host assigned/, nowhere.stderr);
  const done = await kubectl(['exec', 'done', '--', 'true']);
  t.is(done.code, 1);
  t.regex(done.stderr, /cannot exec into a container in a completed pod; current phase is Succeeded/, done.stderr);
  for (const name of ['starting', 'nowhere', 'done']) await cluster.api.request('DELETE', `/api/v1/namespaces/default/pods/${name}`);
});

test.serial('exec: stdout and stderr each to their own stream, and kubectl exits with the command\'s code', async (t) => {
  const r = await kubectl(['exec', 'box', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  t.is(r.stdout, 'out\n');
  t.regex(r.stderr, /^err\n/m);
  t.regex(r.stderr, /command terminated with exit code 3/);
  t.is(r.code, 3);
  const ok = await kubectl(['exec', 'box', '-c', 'main', '--', 'true']);
  t.deepEqual(ok, { code: 0, stdout: '', stderr: '' });
});

test.serial('exec -i: stdin comes back exactly, 10 MB of random bytes included (sha256), and its end ends the command', async (t) => {
  const small = await kubectl(['exec', '-i', 'box', '--', 'cat'], { input: 'data' });
  t.is(small.stdout, 'data');
  t.is(small.code, 0, small.stderr);
  const file = join(work, 'random.bin');
  writeFileSync(file, randomBytes(10 * 1024 * 1024));
  const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
  const big = await sh(`kubectl exec -i box -- sh -c 'cat | sha256sum; cat /dev/null' < ${file}; kubectl exec -i box -- cat < ${file} | sha256sum`);
  t.is(big.code, 0, big.stderr);
  const [inside, roundTrip] = big.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
  t.is(inside, sha, 'the container received the bytes exactly');
  t.is(roundTrip, sha, 'and sent them back exactly');
});

test.serial('exec -c picks the container; a missing command fails with the runtime\'s error and 127', async (t) => {
  const side = await kubectl(['exec', 'box', '-c', 'side', '--', 'sh', '-c', 'echo $HOSTNAME; cat /proc/1/cmdline']);
  t.is(side.code, 0, side.stderr);
  const main = await kubectl(['exec', 'box', '-c', 'main', '--', 'sh', '-c', 'echo $HOSTNAME']);
  t.is(main.code, 0, main.stderr);
  const missing = await kubectl(['exec', 'box', '--', 'no-such-binary']);
  t.regex(missing.stderr, /executable file not found/);
  t.is(missing.code, 127);
});

test.serial('exec -it through a pseudo-terminal: a prompt, a typed command, a resize seen by stty size, and the shell\'s exit code', async (t) => {
  const term = kubectlInTerminal(['exec', '-it', 'box', '-c', 'main', '--', 'sh'], { kubeconfig: cluster.kubeconfig, cacheDir: join(work, 'cache') });
  await term.see(/\/ # /, 'a prompt');
  term.type('echo typed-$((6*7))\r');
  await term.see(/typed-42/, 'the command ran');
  term.type('stty size\r');
  await term.see(/\r\n45 123\r\n/, 'the terminal\'s size at the start');
  term.resize(20, 80);
  // The resize travels on its own channel; ask until the shell's terminal has it.
  await eventually(() => {
    if (/\r\n20 80\r\n/.test(term.screen())) return true;
    term.type('stty size\r');
    return false;
  }, { timeoutMs: 10_000, intervalMs: 300, message: 'the resized terminal', detail: () => `screen: ${JSON.stringify(term.screen())}` });
  term.type('exit 4\r');
  t.is(await term.exited, 4);
});

test.serial('kubectl cp copies a directory tree into the pod and back (tar over exec)', async (t) => {
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  writeFileSync(join(tree, 'a.txt'), 'hello from the host\n');
  const blob = randomBytes(300 * 1024);
  writeFileSync(join(tree, 'sub', 'b.bin'), blob);
  const sha = createHash('sha256').update(blob).digest('hex');
  const into = await kubectl(['cp', tree, 'box:/tmp/tree', '-c', 'main']);
  t.is(into.code, 0, into.stderr);
  const inside = await kubectl(['exec', 'box', '-c', 'main', '--', 'sh', '-c', 'cat /tmp/tree/a.txt; sha256sum /tmp/tree/sub/b.bin']);
  t.is(inside.stdout, `hello from the host\n${sha}  /tmp/tree/sub/b.bin\n`, inside.stderr);
  const back = join(work, 'back');
  const out = await kubectl(['cp', 'box:/tmp/tree', back, '-c', 'main']);
  t.is(out.code, 0, out.stderr);
  t.is(readFileSync(join(back, 'a.txt'), 'utf8'), 'hello from the host\n');
  t.is(createHash('sha256').update(readFileSync(join(back, 'sub', 'b.bin'))).digest('hex'), sha);
});

test.serial('kubectl run --rm -i attaches piped stdin to a new pod, prints its output and leaves no pod', async (t) => {
  const r = await kubectl(['run', 'once', '--rm', '-i', '--image=busybox:latest', '--restart=Never', '--', 'sh', '-c', 'cat; echo done'], { input: 'piped line\n' });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /piped line\ndone\n/);
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/default/pods/once')).status === 404, { timeoutMs: 30_000, message: 'the pod removed' });
});

test.serial('kubectl run -it --rm: a shell on a terminal in a new pod; exit ends kubectl and removes the pod', async (t) => {
  // The issue's own command, which used to time out.
  const term = kubectlInTerminal(['run', 'tmp', '--image=busybox:latest', '-it', '--rm', '--', 'sh'], { kubeconfig: cluster.kubeconfig, cacheDir: join(work, 'cache') });
  await term.see(/If you don't see a command prompt, try pressing enter\./, 'kubectl attached');
  term.type('\r');
  await term.see(/\/ # /, 'a prompt');
  term.type('echo in-tmp-$((6*7)); stty size\r');
  await term.see(/in-tmp-42\r\n45 123\r\n/, 'the command ran on a terminal of kubectl\'s size');
  term.type('exit\r');
  t.is(await term.exited, 0);
  t.regex(term.screen(), /pod "tmp" deleted/);
  // Its restart policy is Always, so the shell was restarted; as on Kubernetes the pod then takes
  // its grace period (sh ignores SIGTERM), and is already terminating.
  const tmp = await cluster.api.get('/api/v1/namespaces/default/pods/tmp');
  t.true(tmp.status === 404 || !!tmp.body.metadata.deletionTimestamp, JSON.stringify(tmp.body.metadata));

  // With --restart=Never kubectl waits for the pod to end and exits with the shell's code.
  const never = kubectlInTerminal(['run', 'tmp-never', '--image=busybox:latest', '--restart=Never', '-it', '--rm', '--', 'sh'], { kubeconfig: cluster.kubeconfig, cacheDir: join(work, 'cache') });
  await never.see(/If you don't see a command prompt/, 'kubectl attached');
  never.type('\r');
  await never.see(/\/ # /, 'a prompt');
  never.type('exit 3\r');
  t.is(await never.exited, 3, never.screen());
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/default/pods/tmp-never')).status === 404, { timeoutMs: 30_000, message: 'the pod removed' });
});

test.serial('kubectl attach -it joins a running shell\'s terminal; a kubectl that goes leaves it running for the next attach; exit ends both', async (t) => {
  await runningPod('term', [{ name: 'shell', command: ['sh'] }], { stdin: true, tty: true });
  const options = { kubeconfig: cluster.kubeconfig, cacheDir: join(work, 'cache') };
  const first = kubectlInTerminal(['attach', '-it', 'term'], options);
  await first.see(/If you don't see a command prompt, try pressing enter\./, 'kubectl attached');
  first.type('\r');
  await first.see(/\/ # /, 'a prompt');
  first.type('MARK=kept-$((6*7))\r');
  first.type('echo set-$MARK\r');
  await first.see(/set-kept-42/, 'the command ran');
  first.kill();
  await first.exited;

  const second = kubectlInTerminal(['attach', '-it', 'term', '-c', 'shell'], options);
  await second.see(/If you don't see a command prompt/, 'kubectl attached again');
  second.type('echo again-$MARK\r');
  await second.see(/again-kept-42/, 'the same shell, its variable kept');
  const pod = (await cluster.api.get('/api/v1/namespaces/default/pods/term')).body;
  t.is(pod.status.containerStatuses[0].restartCount, 0, 'the first kubectl leaving did not end the shell');
  second.type('exit\r');
  t.is(await second.exited, 0);
  t.regex(second.screen(), /Session ended, resume using 'kubectl attach term -c shell -i -t' command when the pod is running/);
});

test.serial('kubectl attach shows a running container\'s output from now on; attach -i feeds a container that reads its stdin', async (t) => {
  await runningPod('ticker', [{ name: 'tick', command: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.2; done'] }]);
  await eventually(async () => /tick-5\n/.test((await kubectl(['logs', 'ticker'])).stdout), { timeoutMs: 20_000, message: 'ticking' });
  const watcher = kubectl.spawn(['attach', 'ticker']);
  let out = '';
  watcher.stdout.on('data', (d) => (out += d));
  await eventually(() => /tick-\d+\n[\s\S]*tick-\d+\n/.test(out), { timeoutMs: 20_000, message: 'ticks through attach', detail: () => out });
  watcher.kill();
  const first = Number(/tick-(\d+)/.exec(out)![1]);
  t.true(first > 5, `attach starts at the container's output of now, not its log (first seen: tick-${first})`);

  await runningPod('reader', [{ name: 'r', command: ['sh', '-c', 'while read line; do echo got:$line; done'] }], { stdin: true });
  const feeder = kubectl.spawn(['attach', '-i', 'reader']);
  let fed = '';
  feeder.stdout.on('data', (d) => (fed += d));
  feeder.stdin.write('one\n');
  await eventually(() => fed.includes('got:one\n'), { timeoutMs: 20_000, message: 'the first line read', detail: () => fed });
  feeder.stdin.write('two\n');
  await eventually(() => fed.includes('got:two\n'), { timeoutMs: 20_000, message: 'the second line read', detail: () => fed });
  feeder.kill();
  t.pass();
});

test.serial("@kubernetes/client-node's Exec (streams, stdin, the exit code in the status) and Attach", async (t) => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const exec = new k8s.Exec(kc);
  const run = async (command: string[], stdin: Readable | null) => {
    let stdout = '';
    let stderr = '';
    const out = new PassThrough().on('data', (d) => (stdout += d));
    const err = new PassThrough().on('data', (d) => (stderr += d));
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      exec.exec('default', 'box', 'main', command, out, err, stdin, false, resolve).catch(reject);
    });
    return { stdout, stderr, status };
  };
  const failed = await run(['sh', '-c', 'echo out; echo err >&2; exit 3'], null);
  t.is(failed.stdout, 'out\n');
  t.is(failed.stderr, 'err\n');
  t.like(failed.status, { status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
  const echoed = await run(['cat'], Readable.from([Buffer.from('through client-node\n')]));
  t.is(echoed.stdout, 'through client-node\n');
  t.is(echoed.status.status, 'Success');

  const input = new PassThrough();
  let got = '';
  const output = new PassThrough().on('data', (d) => (got += d));
  const ws = (await new k8s.Attach(kc).attach('default', 'reader', 'r', output, null, input, false)) as unknown as import('ws').WebSocket;
  input.write('three\n');
  await eventually(() => got.includes('got:three\n'), { timeoutMs: 20_000, message: 'attach fed the reader', detail: () => got });
  ws.close();
  t.pass();
});

test.serial('authorization: a user who may read pods but not create pods/exec or pods/attach is refused in Kubernetes\' words', async (t) => {
  const ok = async (args: string[]) => {
    const r = await kubectl(args);
    t.is(r.code, 0, r.stderr);
    return r.stdout;
  };
  await ok(['create', 'serviceaccount', 'viewer']);
  await ok(['create', 'rolebinding', 'viewer-view', '--clusterrole=view', '--serviceaccount=default:viewer']);
  const token = (await ok(['create', 'token', 'viewer'])).trim();
  await eventually(async () => (await kubectl(['get', 'pod', 'box', '--token', token])).code === 0, { timeoutMs: 10_000, message: 'the view grant is seen' });
  const user = 'system:serviceaccount:default:viewer';
  for (const [args, sub] of [[['exec', 'box', '--', 'true'], 'exec'], [['attach', 'box', '-c', 'main'], 'attach'], [['port-forward', 'box', '0:80'], 'portforward']] as const) {
    const r = await kubectl(['--token', token, ...args]);
    t.not(r.code, 0, `${args.join(' ')}: ${r.stdout} ${r.stderr}`);
    t.regex(r.stderr, new RegExp(`pods "box" is forbidden: User "${user}" cannot create resource "pods/${sub}" in API group "" in the namespace "default"`), r.stderr);
  }
});

test.serial('figure: time to first byte of kubectl exec beside docker exec on the same engine (median of 5)', async (t) => {
  const id = (await docker.listContainers({ filters: { label: [`io.wharf.node=${node.name}`, 'io.wharf.container.name=main'] } }))[0].Id;
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const time = async (line: string) => {
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = process.hrtime.bigint();
      const r = await sh(line);
      t.is(r.code, 0, r.stderr);
      runs.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return median(runs);
  };
  const viaKubectl = await time(`kubectl --cache-dir ${join(work, 'cache')} exec box -c main -- echo x`);
  const viaDocker = await time(`docker exec ${id} echo x`);
  t.log(`kubectl exec: ${viaKubectl.toFixed(0)} ms; docker exec: ${viaDocker.toFixed(0)} ms (median of 5, whole command to exit)`);
});

// Last: it stops the node agent.
test.serial('a node agent that cannot be reached: 503 in Kubernetes\' words, and the pod\'s containers keep running', async (t) => {
  const agent = cluster.services.find((s) => s.name === 'node-agent')!;
  await agent.kill('SIGKILL');
  const r = await kubectl(['exec', 'box', '-c', 'main', '--', 'true']);
  t.is(r.code, 1);
  t.regex(r.stderr, /error dialing backend: cannot reach the agent of node exec-[0-9a-f]+: connect ECONNREFUSED/, r.stderr);
  const running = await docker.listContainers({ filters: { label: [`io.wharf.node=${node.name}`, 'io.wharf.pod.name=box'] } });
  t.true(running.length >= 2, 'the pod runs on without its agent');
});
