// The README's first command, `npm start`, as a newcomer runs it: the whole stack comes up as its
// own processes and says it is up only once the real kubectl, through the kubeconfig it wrote,
// sees the node Ready; kubectl then runs a pod and the README's example Deployment on the local
// Docker engine, and Ctrl-C (SIGINT) takes every process down again.
// Its Redis is this test's own (REDIS_URL), and its ports, names and state directory are free
// ones, so it runs beside the other test files and never touches a developer's .wharf/.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { ROOT, eventually, freePort, startRedis, type RedisHandle } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode } from '../helpers/docker-node.ts';
import { requireImages } from '../helpers/images.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';

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

test.serial('npm start brings the stack up for kubectl, runs a pod and the README\'s Deployment, and Ctrl-C stops every process', async (t) => {
  const apiPort = await freePort();
  stack = spawn('npm', ['start'], {
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
  stack.stdout!.on('data', (d) => (output += d));
  stack.stderr!.on('data', (d) => (output += d));

  // The launcher gives up on its own (and says which part is missing) well within this.
  await eventually(() => output.includes('Wharf is up') || output.includes('Wharf did not come up'), { timeoutMs: 120_000, message: '"Wharf is up"', detail: () => output });
  t.true(output.includes('Wharf is up'), output);
  t.true(output.includes(`export KUBECONFIG=${join(stateDir, 'kubeconfig')}`), output);
  t.true(existsSync(join(stateDir, 'kubeconfig')));

  // "Up" means ready for the README's next command: no retry before it sees the node Ready.
  const nodes = await kubectl(['get', 'nodes']);
  t.is(nodes.code, 0, nodes.stderr);
  t.regex(nodes.stdout, new RegExp(`^NAME\\s+STATUS\\s+ROLES\\s+AGE\\s+VERSION\\n${node.name}\\s+Ready\\s+<none>\\s`), output);

  const run = await kubectl(['run', 'hello', '--image=busybox:latest', '--restart=Never', '--command', '--', 'sleep', '3600']);
  t.is(run.stdout, 'pod/hello created\n', run.stderr);
  await eventually(async () => (await kubectl(['get', 'pod', 'hello', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', { timeoutMs: 30_000, message: 'pod hello Running' });
  const containers = await docker.listContainers({ filters: { label: [`io.wharf.node=${node.name}`, 'io.wharf.pod.name=hello'] } });
  t.true(containers.length >= 2, 'the pod sandbox and its container run on the engine');

  // The README's own Deployment: three replicas answering on port 3000.
  const applied = await kubectl(['apply', '-f', '-'], { input: readmeDeployment() });
  t.is(applied.stdout, 'deployment.apps/api-server created\n', applied.stderr);
  const rollout = await kubectl(['rollout', 'status', 'deployment/api-server', '--timeout=60s']);
  t.is(rollout.code, 0, rollout.stderr);
  const ips = (await kubectl(['get', 'pods', '-l', 'app=api', '-o', 'jsonpath={.items[*].status.podIP}'])).stdout.split(' ');
  t.is(ips.length, 3);
  const answer = await (await fetch(`http://${ips[0]}:3000/`)).text();
  t.regex(answer, /^hello from api-server-/);

  process.kill(-stack.pid!, 'SIGINT');
  // Every process of the stack is gone (npm, the launcher, the four services), the API port closed.
  await eventually(() => !groupAlive(stack!.pid!), { timeoutMs: 15_000, message: 'every process of the stack exited' });
  await eventually(async () => {
    try {
      await fetch(`http://127.0.0.1:${apiPort}/readyz`);
      return false;
    } catch {
      return true;
    }
  }, { timeoutMs: 10_000, message: 'the API server stopped' });
});
