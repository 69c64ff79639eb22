// The README's first command, `npm start`, as a newcomer runs it: the whole stack comes up as its
// own processes and says it is up only once the real kubectl, through the kubeconfig it wrote (the
// cluster CA and the admin token, over HTTPS, no flags), sees the node Ready; kubectl then runs a
// pod and the README's example Deployment on the local Docker engine, and Ctrl-C (SIGINT) takes
// every process down again. Started again on the same Redis, it keeps the same CA and admin token.
// Its Redis is this test's own (REDIS_URL), and its ports, names and state directory are free
// ones, so it runs beside the other test files and never touches a developer's .wharf/.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { ROOT, eventually, freePort, startRedis, type RedisHandle } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode } from '../helpers/docker-node.ts';
import { requireImages } from '../helpers/images.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';
import { parseKubeconfig } from '../../shared/auth/kubeconfig.ts';

const docker = new Docker();
const node = dockerNode('local');
const stateDir = mkdtempSync(join(tmpdir(), 'wharf-local-'));
let redis: RedisHandle;
let stack: ChildProcess | undefined;
let output = '';

// No --server: the kubeconfig `npm start` writes is what this test checks kubectl can use.
const kubectl = kubectlRunner({ cacheDir: join(stateDir, 'cache'), kubeconfig: join(stateDir, 'kubeconfig') });

/** The deployment.yaml of the README's "first hour", as the README gives it. */
function readmeDeployment(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = /^cat > deployment\.yaml <<'EOF'\n([\s\S]*?)^EOF$/m.exec(readme);
  if (!m) throw new Error('README.md has no deployment.yaml block');
  return m[1];
}

/** Whether any process of the group is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

test.before(async () => {
  await requireImages(['busybox:latest', 'node:20']);
  redis = await startRedis();
});

test.after.always(async (t) => {
  if (stack?.pid && groupAlive(stack.pid)) {
    t.log(output);
    process.kill(-stack.pid, 'SIGKILL');
  }
  await removeDockerNode(node, docker);
  await redis?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** `npm start` in a process group of its own, with this test's Redis, ports and state directory. */
function npmStart(apiPort: number): { child: ChildProcess; output: () => string } {
  let out = '';
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    // Its own process group: Ctrl-C in a terminal signals the whole group, as kill(-pid) does here.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...node.env,
      REDIS_URL: redis.url,
      WHARF_KEY_PREFIX: `local-${node.name}`,
      WHARF_API_PORT: String(apiPort),
      WHARF_AGENT_PORT: '0',
      WHARF_STATE_DIR: stateDir,
      WHARF_AGENT_DATA_DIR: join(stateDir, 'agent'),
      WHARF_SERVICE_PROXY: 'off',
      WHARF_LOG_LEVEL: 'warn',
    },
  });
  child.stdout!.on('data', (d) => ((out += d), (output += d)));
  child.stderr!.on('data', (d) => ((out += d), (output += d)));
  return { child, output: () => out };
}

/** Whether anything accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
}

/** Ctrl-C, and every process of the stack gone (npm, the launcher, the four services), the API port closed. */
async function interrupt(child: ChildProcess, apiPort: number): Promise<void> {
  process.kill(-child.pid!, 'SIGINT');
  await eventually(() => !groupAlive(child.pid!), { timeoutMs: 15_000, message: 'every process of the stack exited' });
  await eventually(async () => !(await listening(apiPort)), { timeoutMs: 10_000, message: 'the API server stopped' });
}

test.serial('npm start brings the stack up for kubectl, runs a pod and the README\'s Deployment, and Ctrl-C stops every process; started again, its kubeconfig stays valid', async (t) => {
  const apiPort = await freePort();
  const first = npmStart(apiPort);
  stack = first.child;

  // The launcher gives up on its own (and says which part is missing) well within this.
  await eventually(() => first.output().includes('Wharf is up') || first.output().includes('Wharf did not come up'), { timeoutMs: 120_000, message: '"Wharf is up"', detail: () => output });
  t.true(first.output().includes('Wharf is up'), output);
  const kubeconfigPath = join(stateDir, 'kubeconfig');
  t.true(first.output().includes(`export KUBECONFIG=${kubeconfigPath}`), output);
  t.true(existsSync(kubeconfigPath));

  // k3s' kubeconfig: the server over HTTPS, the cluster CA inline, the admin token; owner-only, as
  // is the token's file, and the token is nowhere in Redis (only its digest is).
  const kubeconfigText = readFileSync(kubeconfigPath, 'utf8');
  const kubeconfig = parseKubeconfig(kubeconfigText);
  t.is(kubeconfig.server, `https://127.0.0.1:${apiPort}`);
  t.regex(kubeconfig.caPem, /^-----BEGIN CERTIFICATE-----/);
  t.is(readFileSync(join(stateDir, 'admin-token'), 'utf8').trim(), kubeconfig.token);
  t.is(statSync(kubeconfigPath).mode & 0o777, 0o600);
  t.is(statSync(join(stateDir, 'admin-token')).mode & 0o777, 0o600);
  const { Redis } = await import('ioredis');
  const client = new Redis(redis.url);
  try {
    const keys = await client.keys(`local-${node.name}:*`);
    const dumped = (await Promise.all(keys.map(async (k) => (await client.type(k)) === 'hash' ? JSON.stringify(await client.hgetall(k)) : ''))).join('\n');
    t.false(dumped.includes(kubeconfig.token), 'the admin token is not in Redis');
  } finally {
    client.disconnect();
  }

  // "Up" means ready for the README's next command: no flags, no retry before it sees the node Ready.
  const nodes = await kubectl(['get', 'nodes']);
  t.is(nodes.code, 0, nodes.stderr);
  t.regex(nodes.stdout, new RegExp(`^NAME\\s+STATUS\\s+ROLES\\s+AGE\\s+VERSION\\n${node.name}\\s+Ready\\s+<none>\\s`), output);
  const whoami = await kubectl(['auth', 'whoami']);
  t.regex(whoami.stdout, /^ATTRIBUTE\s+VALUE\nUsername\s+system:admin\nGroups\s+\[system:masters system:authenticated\]\n$/, whoami.stderr);

  const run = await kubectl(['run', 'hello', '--image=busybox:latest', '--restart=Never', '--command', '--', 'sleep', '3600']);
  t.is(run.stdout, 'pod/hello created\n', run.stderr);
  await eventually(async () => (await kubectl(['get', 'pod', 'hello', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', { timeoutMs: 30_000, message: 'pod hello Running' });
  const containers = await docker.listContainers({ filters: { label: [`io.wharf.node=${node.name}`, 'io.wharf.pod.name=hello'] } });
  t.is(containers.length, 1, 'the pod runs on the engine as its one container (a pod of one container needs no sandbox)');

  // The README's own Deployment: three replicas answering on port 3000.
  const applied = await kubectl(['apply', '-f', '-'], { input: readmeDeployment() });
  t.is(applied.stdout, 'deployment.apps/api-server created\n', applied.stderr);
  const rollout = await kubectl(['rollout', 'status', 'deployment/api-server', '--timeout=60s']);
  t.is(rollout.code, 0, rollout.stderr);
  const ips = (await kubectl(['get', 'pods', '-l', 'app=api', '-o', 'jsonpath={.items[*].status.podIP}'])).stdout.split(' ');
  t.is(ips.length, 3);
  // Ready without a readiness probe means started: node may still be binding its port (CI saw a refused connect).
  const answer = await eventually(() => fetch(`http://${ips[0]}:3000/`).then((r) => r.text(), () => undefined), { timeoutMs: 15_000, message: 'the README\'s Deployment answering' });
  t.regex(answer, /^hello from api-server-/);

  await interrupt(first.child, apiPort);

  // Started again against the same Redis and state directory: the same token and CA, so the
  // kubeconfig copied elsewhere before (as a user keeps one) still works.
  const copy = join(stateDir, 'kubeconfig-copy');
  writeFileSync(copy, kubeconfigText, { mode: 0o600 });
  const second = npmStart(apiPort);
  stack = second.child;
  await eventually(() => second.output().includes('Wharf is up') || second.output().includes('Wharf did not come up'), { timeoutMs: 120_000, message: '"Wharf is up" again', detail: () => output });
  t.true(second.output().includes('Wharf is up'), output);
  t.deepEqual(parseKubeconfig(readFileSync(kubeconfigPath, 'utf8')), kubeconfig, 'the same server, CA and token');
  const again = await kubectlRunner({ cacheDir: join(stateDir, 'cache'), kubeconfig: copy })(['get', 'pod', 'hello', '-o', 'name']);
  t.is(again.stdout, 'pod/hello\n', again.stderr);
  await interrupt(second.child, apiPort);
});
