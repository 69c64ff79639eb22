// The real kubectl against what a cluster holds beyond the user's own workloads, on one cluster
// with a scheduler, a controller manager and a Docker node: the default/kubernetes Service, a
// Job's logs (its own pod's, never a look-alike's), events in the events.k8s.io/v1 API, and the
// system namespaces that `kubectl delete` may not remove.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const docker = new Docker();
const node = dockerNode('kubectl-cluster');
const work = mkdtempSync(join(tmpdir(), 'wharf-kubectl-cluster-'));
let cluster: Cluster;

const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok, fails } = kubectlAssertions(kubectl);

const SYSTEM_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

/** A Job that prints one line; every such Job's pods carry the same app label. */
const greeter = (name: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
  template:
    metadata:
      labels: {app: greeter}
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 0
      containers:
      - name: greet
        image: busybox:latest
        command: ["sh", "-c", "echo hello from ${name}"]
`;

test.before(async () => {
  cluster = await startDockerCluster(node, ['busybox:latest']);
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
  rmSync(work, { recursive: true, force: true });
});

/** The first address of a CIDR (10.1.2.0/24 -> 10.1.2.1): where Kubernetes puts the kubernetes Service. */
function firstServiceIp(cidr: string): string {
  const [base] = cidr.split('/');
  const n = base.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

test.serial('kubectl get svc kubernetes: the API server\'s own ClusterIP Service, port 443 named https, with Endpoints', async (t) => {
  const svc = await ok(t, 'get', 'svc', 'kubernetes', '-o', 'jsonpath={.spec.type} {.spec.clusterIP} {.spec.ports[0].name} {.spec.ports[0].port} {.spec.ports[0].protocol}');
  t.is(svc, `ClusterIP ${firstServiceIp(cluster.env.WHARF_SERVICE_CIDR)} https 443 TCP`);
  t.regex(await ok(t, 'get', 'svc', 'kubernetes'), /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nkubernetes\s+ClusterIP\s+\S+\s+<none>\s+443\/TCP\s+\S+\n$/);
  const endpoints = await ok(t, 'get', 'endpoints', 'kubernetes', '-o', 'jsonpath={.subsets[0].addresses[*].ip} {.subsets[0].ports[0].name}');
  t.regex(endpoints, /^\d+\.\d+\.\d+\.\d+( \d+\.\d+\.\d+\.\d+)* https$/);
});

test.serial('kubectl logs job/NAME shows that Job\'s own pod, not the pod of a Job whose labels and name look alike', async (t) => {
  // Both pods carry app=greeter, and one Job's name prefixes the other's pod names: only the
  // Job's generated selector (its controller-uid) tells them apart.
  for (const name of ['greet', 'greet-again']) {
    const created = await kubectl(['create', '-f', '-'], { input: greeter(name) });
    t.is(created.stdout, `job.batch/${name} created\n`, created.stderr);
  }
  const waited = await ok(t, 'wait', '--for=condition=complete', 'job/greet', 'job/greet-again', '--timeout=60s');
  t.is(waited, 'job.batch/greet condition met\njob.batch/greet-again condition met\n');
  t.is(await ok(t, 'logs', 'job/greet'), 'hello from greet\n');
  t.is(await ok(t, 'logs', 'job/greet-again'), 'hello from greet-again\n');
  // The loose match would have mixed them up: both pods answer to the shared label.
  const both = (await ok(t, 'logs', '-l', 'app=greeter')).split('\n').filter(Boolean).sort();
  t.deepEqual(both, ['hello from greet', 'hello from greet-again']);
});

test.serial('kubectl get events.events.k8s.io and events.v1.events.k8s.io -A list the events.k8s.io/v1 Events', async (t) => {
  const inDefault = await ok(t, 'get', 'events.events.k8s.io');
  t.regex(inDefault, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
  t.regex(inDefault, /\n\S+\s+Normal\s+SuccessfulCreate\s+job\/greet\s+Created pod: greet-\w+\n/);
  t.regex(inDefault, /\n\S+\s+Normal\s+Completed\s+job\/greet-again\s+Job completed\n/);
  const everywhere = await ok(t, 'get', 'events.v1.events.k8s.io', '-A');
  t.regex(everywhere, /^NAMESPACE\s+LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
  t.regex(everywhere, /\ndefault\s+\S+\s+Normal\s+SuccessfulCreate\s+job\/greet\s+Created pod: greet-\w+\n/);
  // The objects themselves in that group's field names.
  const listed = JSON.parse(await ok(t, 'get', 'events.v1.events.k8s.io', '--field-selector', 'reason=Completed', '-o', 'json'));
  const completed = listed.items.find((e: any) => e.regarding?.name === 'greet');
  t.is(completed?.apiVersion, 'events.k8s.io/v1', JSON.stringify(listed.items));
  t.like(completed, { kind: 'Event', reason: 'Completed', note: 'Job completed', regarding: { kind: 'Job', name: 'greet', namespace: 'default' } });
  t.is(completed.message, undefined, 'core/v1 field names are not served in events.k8s.io/v1');
});

test.serial('kubectl delete ns refuses the system namespaces; delete ns --all removes only the others', async (t) => {
  t.is(await fails(t, 'delete', 'ns', 'default'), 'Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted\n');
  t.is(await fails(t, 'delete', 'ns', 'kube-system'), 'Error from server (Forbidden): namespaces "kube-system" is forbidden: this namespace may not be deleted\n');
  await ok(t, 'create', 'ns', 'scratch');
  await ok(t, 'create', 'configmap', 'left', '-n', 'scratch');
  const all = await kubectl(['delete', 'ns', '--all', '--timeout=60s']);
  t.is(all.code, 1, all.stdout);
  t.is(all.stdout, 'namespace "scratch" deleted\n', all.stderr);
  const refusals = all.stderr.split('\n').filter(Boolean).sort();
  t.deepEqual(refusals, SYSTEM_NAMESPACES.map((ns) => `Error from server (Forbidden): namespaces "${ns}" is forbidden: this namespace may not be deleted`));
  // kubectl does not wait after a refusal: the namespace controller empties scratch, then it goes.
  await ok(t, 'wait', '--for=delete', 'ns/scratch', '--timeout=30s');
  t.is(await ok(t, 'get', 'ns', '-o', 'name'), SYSTEM_NAMESPACES.map((ns) => `namespace/${ns}\n`).join(''));
  t.regex(await ok(t, 'get', 'ns', 'default'), /\ndefault\s+Active\s/);
});
