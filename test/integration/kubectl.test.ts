// The real kubectl (Debian's v1.32 binary) drives Wharf: a newcomer's first hour — apply a
// manifest, watch pods come up, scale, read logs, change the image, roll back, delete — asserting
// on what kubectl prints and its exit codes, errors included.
import test from 'ava';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const docker = new Docker();
const node = dockerNode('kubectl');
const NODE = node.name;
const work = mkdtempSync(join(tmpdir(), 'wharf-kubectl-'));
let cluster: Cluster;

const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok } = kubectlAssertions(kubectl);

function file(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

const SERVER = "process.on('SIGTERM',()=>process.exit(0));console.log('hello from '+require('os').hostname());require('http').createServer((q,s)=>s.end('v1')).listen(3000)";

const manifest = (image: string, replicas = 2) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: ${image}
        command: ["node", "-e", "${SERVER}"]
        ports:
        - containerPort: 3000
        env:
        - name: GREETING
          value: hello
`;

test.before(async () => {
  await docker.getImage('node:20').tag({ repo: 'node', tag: '20-wharf-test' });
  cluster = await startDockerCluster(node, ['node:20', 'busybox:latest']);
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
  await docker.getImage('node:20-wharf-test').remove().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

test.serial('version, api-resources, api-versions, get nodes', async (t) => {
  t.regex(await ok(t, 'version'), /Server Version: v1\.32/);
  const resources = await ok(t, 'api-resources');
  t.regex(resources, /deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
  t.regex(resources, /pods\s+po\s+v1\s+true\s+Pod/);
  t.regex(await ok(t, 'api-versions'), /apps\/v1/);
  const nodes = await ok(t, 'get', 'nodes');
  t.regex(nodes, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
  t.regex(nodes, new RegExp(`${NODE}\\s+Ready\\s+<none>`));
  t.regex(await ok(t, 'get', 'no', '-o', 'wide'), /INTERNAL-IP.*CONTAINER-RUNTIME[\s\S]*docker:\/\//);
});

test.serial('apply a manifest, watch the pods come up, get with the usual columns', async (t) => {
  const path = file('web.yaml', manifest('node:20'));
  t.regex(await ok(t, 'apply', '-f', path), /deployment.apps\/web created/);
  await ok(t, 'rollout', 'status', 'deployment/web', '--timeout=30s');
  const pods = await ok(t, 'get', 'pods', '-l', 'app=web');
  t.regex(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
  t.is(pods.trim().split('\n').filter((l) => /1\/1\s+Running/.test(l)).length, 2);
  t.regex(await ok(t, 'get', 'deploy'), /web\s+2\/2\s+2\s+2\s+/);
  t.regex(await ok(t, 'get', 'po', '-o', 'wide'), /IP\s+NODE[\s\S]*\d+\.\d+\.\d+\.\d+\s+kubectl-/);
  t.regex(await ok(t, 'get', 'all'), /deployment.apps\/web/);
  t.regex(await ok(t, 'apply', '-f', path), /deployment.apps\/web unchanged/);
  const names = await ok(t, 'get', 'pods', '-o', 'name');
  t.regex(names, /^pod\/web-/m);
  t.is(await ok(t, 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'), '2');
});

test.serial('scale, logs, describe', async (t) => {
  t.regex(await ok(t, 'scale', 'deployment', 'web', '--replicas=3'), /scaled/);
  await ok(t, 'rollout', 'status', 'deployment/web', '--timeout=30s');
  t.regex(await ok(t, 'get', 'deploy', 'web'), /3\/3/);
  t.regex(await ok(t, 'logs', 'deploy/web'), /hello from web-/);
  const pod = (await ok(t, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
  t.regex(await ok(t, 'logs', pod, '-c', 'web', '--tail=1'), /hello from/);
  t.regex(await ok(t, 'logs', pod, '--timestamps'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z hello from/m);
  t.regex(await ok(t, 'logs', pod, '--since=1h'), /hello from/);
  // -f holds the stream open: read the first line, then stop it.
  const follow = kubectl.spawn(['logs', '-f', pod]);
  let followed = '';
  follow.stdout.on('data', (d) => (followed += d));
  await eventually(() => followed.includes('hello from'), { timeoutMs: 10_000, message: 'followed logs' });
  t.is(follow.exitCode, null, 'still following');
  follow.kill();
  // --previous: the output of the container before a restart.
  const [victim] = await docker.listContainers({ filters: { label: [`io.wharf.pod.name=${pod}`, 'io.wharf.container.role=app'] } });
  await docker.getContainer(victim.Id).kill();
  await eventually(async () => (await kubectl(['get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])).stdout === '1', { timeoutMs: 10_000, message: 'restarted' });
  t.regex(await ok(t, 'logs', pod, '--previous'), /hello from/);
  t.regex(await ok(t, 'explain', 'deployment.spec.replicas'), /FIELD: +replicas <integer>/);
  // Statuses are documented too, with Kubernetes' type names for the named types.
  t.regex(await ok(t, 'explain', 'pod.status.message'), /FIELD: message <string>\n[\s\S]*DESCRIPTION:\n\s+\S/);
  t.regex(await ok(t, 'explain', 'deployment.status.conditions'), /FIELD: conditions <\[\]DeploymentCondition>[\s\S]*\n  status\t<string> -required-/);
  t.regex(await ok(t, 'explain', 'pod.spec.containers.resources'), /FIELD: resources <ResourceRequirements>[\s\S]*\n  limits\t<map\[string\]Quantity>/);
  const described = await ok(t, 'describe', 'deployment', 'web');
  t.regex(described, /Replicas:\s+3 desired \| 3 updated \| 3 total \| 3 available/);
  t.regex(described, /ScalingReplicaSet/);
  t.regex(await ok(t, 'describe', 'pod', pod), /Successfully assigned default\//);
});

test.serial('change the image, see the rollout history, roll back', async (t) => {
  await ok(t, 'set', 'image', 'deployment/web', 'web=node:20-wharf-test');
  await ok(t, 'rollout', 'status', 'deployment/web', '--timeout=60s');
  t.regex(await ok(t, 'get', 'deploy', 'web', '-o', 'wide'), /node:20-wharf-test/);
  const history = await ok(t, 'rollout', 'history', 'deployment/web');
  t.regex(history, /REVISION\s+CHANGE-CAUSE\s+1\s+<none>\s+2\s+<none>/);
  t.regex(await ok(t, 'rollout', 'undo', 'deployment/web'), /rolled back/);
  await ok(t, 'rollout', 'status', 'deployment/web', '--timeout=60s');
  t.regex(await ok(t, 'get', 'deploy', 'web', '-o', 'wide'), /\snode:20\s/);
  const rs = await ok(t, 'get', 'rs', '-l', 'app=web');
  t.is(rs.trim().split('\n').length, 3, `two ReplicaSets, the old one reused by the rollback:\n${rs}`);
  t.regex(await ok(t, 'rollout', 'history', 'deployment/web'), /2\s+<none>\s+3\s+<none>/);
});

test.serial('errors read as they do on Kubernetes', async (t) => {
  const missing = await kubectl(['get', 'deployment', 'nope']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /Error from server \(NotFound\): deployments.apps "nope" not found/);
  const bad = file('bad.yaml', manifest('node:20', -1).replace('name: web', 'name: bad'));
  const invalid = await kubectl(['apply', '-f', bad]);
  t.is(invalid.code, 1);
  t.regex(invalid.stderr, /The Deployment "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0/);
  const unknown = file('unknown.yaml', manifest('node:20').replace('replicas: 2', 'replicas: 2\n  replicaz: 3'));
  const strict = await kubectl(['apply', '-f', unknown, '--validate=strict']);
  t.is(strict.code, 1);
  t.regex(strict.stderr, /unknown field "spec.replicaz"/);
});

test.serial('watch with -w prints updates as rows', async (t) => {
  const child = kubectl.spawn(['get', 'deploy', 'web', '-w']);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await eventually(() => out.includes('web'), { timeoutMs: 10_000, message: 'initial row' });
  await ok(t, 'scale', 'deployment', 'web', '--replicas=1');
  await eventually(() => out.trim().split('\n').length >= 3, { timeoutMs: 15_000, message: 'updated rows' });
  child.kill();
  t.regex(out, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
});

test.serial('delete the Deployment and wait for it to be gone', async (t) => {
  t.regex(await ok(t, 'delete', 'deployment', 'web', '--wait=true', '--timeout=30s'), /deployment.apps "web" deleted/);
  await eventually(async () => (await ok(t, 'get', 'pods', '-l', 'app=web', '-o', 'name')).trim() === '', { timeoutMs: 20_000, message: 'pods gone' });
  const none = await kubectl(['get', 'pods']);
  t.regex(none.stderr + none.stdout, /No resources found in default namespace\./);
});
