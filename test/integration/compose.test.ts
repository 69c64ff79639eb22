// `docker compose up` as the README gives it: the stack built from the Dockerfile and run in
// containers — Redis, the API server, two schedulers, two controller managers and the node agent
// in the host's network namespace — then driven with the real kubectl through the admin kubeconfig
// the api service writes into its bind-mounted state directory (HTTPS, the cluster CA, the admin
// token; no flags): the node Ready, a Deployment behind a NodePort Service answering on 127.0.0.1,
// its logs read through the node agent's endpoint (which refuses anyone but the API server), a
// scheduler killed without consequence, and `down` taking the stack away. Its project name, host
// ports, node name, pod network and state directory are this test's own, so it runs beside the
// other test files and any stack of a developer.
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { ROOT, eventually, freePort } from '../helpers/cluster.ts';
import { requireImages } from '../helpers/images.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';
import { parseKubeconfig } from '../../shared/auth/kubeconfig.ts';
import { intToIpv4, ipv4ToInt } from '../../shared/util.ts';

const docker = new Docker();
const suffix = randomBytes(3).toString('hex');
const project = `wharf-test-${suffix}`;
const nodeName = `compose-${suffix}`;
const podNetwork = `wharf-compose-${suffix}`;
const work = mkdtempSync(join(tmpdir(), 'wharf-compose-'));
const stateDir = join(work, 'state');
const kubeconfigPath = join(stateDir, 'kubeconfig');
let env: NodeJS.ProcessEnv;
let apiPort = 0;
let agentPort = 0;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const maxBuffer = 16 * 1024 * 1024;

function run(command: string, args: string[], timeout = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env, timeout, maxBuffer }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const compose = (...args: string[]) => run('docker-compose', ['-p', project, ...args], 600_000);
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: kubeconfigPath, env, cwd: ROOT, maxBuffer }));

/** A GET over HTTPS: its status and body, or the connection's error. */
function httpsGet(url: string, options: { ca?: string; token?: string } = {}): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(url, { ca: options.ca, rejectUnauthorized: options.ca !== undefined, headers: options.token ? { authorization: `Bearer ${options.token}` } : {}, timeout: 5_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end();
  });
}

/** Whether anything accepts connections at host:port. */
function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.on('connect', () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
}

async function get(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

test.before(async () => {
  await requireImages(['busybox:latest', 'node:20', 'redis:7']);
  apiPort = await freePort();
  agentPort = await freePort();
  mkdirSync(stateDir);
  env = {
    ...process.env,
    KUBECONFIG: kubeconfigPath,
    WHARF_API_HOST_PORT: String(apiPort),
    WHARF_REDIS_HOST_PORT: String(await freePort()),
    WHARF_AGENT_HOST_PORT: String(agentPort),
    WHARF_COMPOSE_NODE_NAME: nodeName,
    WHARF_COMPOSE_POD_NETWORK: podNetwork,
    WHARF_COMPOSE_STATE_DIR: stateDir,
  };
});

test.after.always(async (t) => {
  const down = await compose('down', '-v', '--remove-orphans');
  if (down.code !== 0) t.log(down.stderr);
  // The pods the node agent started outlive it (a restarted agent adopts them): this test's go now.
  const left = await docker.listContainers({ all: true, filters: { label: [`io.wharf.node=${nodeName}`] } });
  await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  await docker.getNetwork(podNetwork).remove().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

test.serial('docker compose up: the stack runs in containers, serves kubectl and pods, survives a killed scheduler, and goes with down', async (t) => {
  const up = await compose('up', '-d', '--build');
  t.is(up.code, 0, up.stderr);

  const services = ['api', 'controller-manager', 'node-agent', 'redis', 'scheduler'];
  await eventually(async () => (await compose('ps', '--services', '--filter', 'status=running')).stdout.trim().split('\n').sort().join() === services.join(), {
    timeoutMs: 30_000,
    message: `all of ${services.join(', ')} running`,
  });
  const containers = await docker.listContainers({ filters: { label: [`com.docker.compose.project=${project}`] } });
  const count = (service: string) => containers.filter((c) => c.Labels['com.docker.compose.service'] === service).length;
  t.is(count('scheduler'), 2);
  t.is(count('controller-manager'), 2);

  // The api service's kubeconfig: HTTPS on the published port, the cluster CA, the admin token.
  await eventually(() => existsSync(kubeconfigPath), { timeoutMs: 60_000, message: `${kubeconfigPath} written by the api service` });
  const kubeconfig = parseKubeconfig(readFileSync(kubeconfigPath, 'utf8'));
  t.is(kubeconfig.server, `https://127.0.0.1:${apiPort}`);
  t.is(readFileSync(join(stateDir, 'admin-token'), 'utf8').trim(), kubeconfig.token);
  t.like(await httpsGet(`${kubeconfig.server}/api/v1/namespaces`, { ca: kubeconfig.caPem }), { status: 401 }, 'no credentials: 401');
  t.like(await httpsGet(`${kubeconfig.server}/api/v1/namespaces`, { ca: kubeconfig.caPem, token: kubeconfig.token }), { status: 200 }, 'the admin token: 200');

  await eventually(async () => (await kubectl(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'True', {
    timeoutMs: 60_000,
    message: 'the compose node Ready through kubectl',
  });

  // Redis refuses a client without credentials, and holds Secrets encrypted with the key cluster-init made.
  const anonymous = await compose('exec', '-T', 'redis', 'redis-cli', 'ping');
  t.regex(anonymous.stdout, /NOAUTH/, anonymous.stderr);
  const secretValue = `compose-${suffix}-value`;
  const secret = await kubectl(['create', 'secret', 'generic', 'compose-secret', `--from-literal=v=${secretValue}`]);
  t.is(secret.stdout, 'secret/compose-secret created\n', secret.stderr);
  const asAdmin = (command: string) => compose('exec', '-T', 'redis', 'sh', '-c', `redis-cli --no-auth-warning --user default --pass "$(cat /wharf-secrets/admin.password)" ${command}`);
  const stored = await asAdmin('HGET wharf:obj:secrets:default compose-secret');
  t.true(stored.stdout.startsWith('k8s:enc:aesgcm:v1:key1:'), stored.stdout + stored.stderr);
  t.false((await asAdmin('XRANGE wharf:events:secrets - +')).stdout.includes(secretValue));
  t.is(Buffer.from((await kubectl(['get', 'secret', 'compose-secret', '-o', 'jsonpath={.data.v}'])).stdout, 'base64').toString(), secretValue);
  // The node agent's container holds its own Redis password, not the API server's.
  const agentSecrets = await compose('exec', '-T', 'node-agent', 'ls', '/wharf-secrets');
  t.deepEqual(agentSecrets.stdout.trim().split('\n').sort(), ['encryption-config.yaml', 'redis.password'], agentSecrets.stderr);

  const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: busybox:latest
        command: ["sh", "-c", "echo hello from $(hostname) | tee /tmp/index.html; exec httpd -f -p 8000 -h /tmp"]
        ports: [{containerPort: 8000}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8000}]
`;
  const applied = await kubectl(['apply', '-f', '-'], { input: manifest });
  t.is(applied.stdout, 'deployment.apps/web created\nservice/web created\n', applied.stderr);
  const rollout = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=90s']);
  t.is(rollout.code, 0, rollout.stderr);
  const nodePort = (await kubectl(['get', 'service', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout;
  t.regex(nodePort, /^3\d{4}$/);
  const answer = await eventually(() => get(`http://127.0.0.1:${nodePort}/`), { timeoutMs: 30_000, message: `the NodePort ${nodePort} answering` });
  t.regex(answer, /^hello from web-/);

  // Logs come through the node agent's endpoint, which the API server (in its container) reaches
  // at the host's gateway address with its client certificate; the endpoint listens on that
  // address only and refuses a request without the API server's certificate.
  const logs = await kubectl(['logs', 'deployment/web']);
  t.regex(logs.stdout, /^hello from web-/, logs.stderr);
  // Docker 20.10 leaves the default bridge's Gateway out of its IPAM config: it is then the
  // subnet's first address, as the engine assigns it.
  const bridgeIpam = (await docker.getNetwork('bridge').inspect()).IPAM!.Config![0];
  const agentHost = (bridgeIpam.Gateway as string | undefined) ?? intToIpv4(ipv4ToInt(String(bridgeIpam.Subnet).split('/')[0])! + 1);
  t.like(await httpsGet(`https://${agentHost}:${agentPort}/containerLogs/default/x/y`), { status: 401 }, 'the agent refuses a client without the API server\'s certificate');
  t.false(await listening('127.0.0.1', agentPort), 'the agent does not listen on every address');

  // One of the two schedulers killed: the other places the new replicas.
  const [scheduler] = containers.filter((c) => c.Labels['com.docker.compose.service'] === 'scheduler');
  await docker.getContainer(scheduler.Id).kill();
  const scaled = await kubectl(['scale', 'deployment/web', '--replicas=4']);
  t.is(scaled.stdout, 'deployment.apps/web scaled\n', scaled.stderr);
  const rolledOut = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=90s']);
  t.is(rolledOut.code, 0, rolledOut.stderr);

  const deleted = await kubectl(['delete', '-f', '-', '--wait=true'], { input: manifest });
  t.is(deleted.code, 0, deleted.stderr);
  await eventually(async () => (await docker.listContainers({ all: true, filters: { label: [`io.wharf.node=${nodeName}`] } })).length === 0, {
    timeoutMs: 30_000,
    message: 'the pods\' containers removed by the agent',
  });

  const down = await compose('down', '-v');
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } }), []);
  t.false(await listening('127.0.0.1', apiPort), 'the API is gone');
});
