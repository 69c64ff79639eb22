// Into a pod with the real kubectl: exec and attach go through the API server (authentication,
// RBAC, the pod and container checked) and its tunnel to the node agent that runs the pod, which
// drives the Docker engine.
import test from 'ava';
import Docker from 'dockerode';
import { execFileSync, spawn, exec as execShell } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
  // script(1) gives kubectl a terminal, 45 rows by 123 columns; the test types into it and reads
  // the screen, and resizes it from outside (stty -F), which signals kubectl as a terminal window does.
  const ttyFile = join(work, 'tty-name');
  const inner = `tty > ${ttyFile}; stty rows 45 cols 123; exec kubectl --cache-dir ${join(work, 'cache')} exec -it box -c main -- sh`;
  const child = spawn('script', ['-qefc', inner, '/dev/null'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig, TERM: 'dumb' } });
  let screen = '';
  child.stdout.on('data', (d) => (screen += d));
  child.stderr.on('data', (d) => (screen += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then((code) => (screen += `[exit ${code}]`));
  const see = (re: RegExp, message: string) => eventually(() => re.test(screen), { timeoutMs: 20_000, message, detail: () => `screen: ${JSON.stringify(screen)}` });
  await see(/\/ # /, 'a prompt');
  child.stdin.write('echo typed-$((6*7))\r');
  await see(/typed-42/, 'the command ran');
  child.stdin.write('stty size\r');
  await see(/\r\n45 123\r\n/, 'the terminal\'s size at the start');
  execFileSync('stty', ['-F', readFileSync(ttyFile, 'utf8').trim(), 'rows', '20', 'cols', '80']);
  // The resize travels on its own channel; ask until the shell's terminal has it.
  await eventually(() => {
    if (/\r\n20 80\r\n/.test(screen)) return true;
    child.stdin.write('stty size\r');
    return false;
  }, { timeoutMs: 10_000, intervalMs: 300, message: 'the resized terminal', detail: () => `screen: ${JSON.stringify(screen)}` });
  child.stdin.write('exit 4\r');
  t.is(await exited, 4);
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
