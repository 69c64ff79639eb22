// The official Python client (Debian's python3-kubernetes) against a Wharf cluster with a Docker
// node: watch streams (and their 410 after compaction, then a relist), following a running pod's
// log, exec over its WebSocket stream, and every served kind created, read and listed through its typed API, whose models refuse
// an answer that lacks a field they require. The scripts in test/python/ drive the client and
// print one JSON document each; the assertions are here.
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';

// Debian's interpreter, which the package installs into (a `python3` earlier on the PATH may be another).
const PYTHON = '/usr/bin/python3';
// The cluster keeps this many watch events per kind, so a short churn compacts a resourceVersion away.
const WATCH_HISTORY = 100;
const node = dockerNode('pyclient');
let cluster: Cluster;

interface ScriptRun {
  /** The script's JSON document. */
  out: any;
  stderr: string;
}

/** Runs test/python/<script> against the cluster (its kubeconfig: the API server, the CA, the admin token) and parses the JSON it prints. */
function runScript(script: string, args: string[], timeoutMs = 90_000): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [join(ROOT, 'test', 'python', script), cluster.kubeconfig, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } }, (err, stdout, stderr) => {
      try {
        resolve({ out: JSON.parse(stdout), stderr });
      } catch {
        reject(new Error(`${script} printed no JSON document (${err?.message ?? 'exit 0'})\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-4000)}`));
      }
    });
  });
}

test.before(async () => {
  const probe = await new Promise<string>((resolve) => execFile(PYTHON, ['-c', 'import kubernetes; print(kubernetes.__version__)'], (err, stdout, stderr) => resolve(err ? `${err.message} ${stderr}` : '')));
  if (probe) throw new Error(`The Python client is missing: ${probe.trim()}\nInstall Debian's package: apt-get install python3-kubernetes (bash .ci/run does).`);
  cluster = await startDockerCluster(node, ['busybox:latest'], { env: { WHARF_WATCH_HISTORY: String(WATCH_HISTORY) } });
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node);
});

test('watch.Watch().stream(list_namespaced_pod): ADDED, MODIFIED up to Running, then DELETED', async (t) => {
  const { out, stderr } = await runScript('watch_pods.py', ['py-watch']);
  const seen = out.events.map((e: any) => `${e.type} ${e.name} ${e.phase}${e.deleting ? ' deleting' : ''}`);
  t.is(out.error, null, `${out.error}\n${stderr}`);
  t.false(out.streamEnded, `the watch ended before DELETED; it saw ${JSON.stringify(seen)}`);
  t.true(out.events.length >= 3, JSON.stringify(seen));
  t.is(seen[0], 'ADDED watched Pending');
  t.true(out.events.some((e: any) => e.type === 'MODIFIED' && e.phase === 'Running'), JSON.stringify(seen));
  t.true(out.events.some((e: any) => e.type === 'MODIFIED' && e.deleting), `graceful deletion shows first: ${JSON.stringify(seen)}`);
  t.is(out.events.at(-1).type, 'DELETED', JSON.stringify(out.events));
  t.true(out.events.every((e: any) => e.class === 'V1Pod' && e.name === 'watched'), JSON.stringify(out.events));
  const versions = out.events.map((e: any) => Number(e.resourceVersion));
  t.deepEqual(versions, [...versions].sort((a, b) => a - b), 'resourceVersions only grow');
});

test('a watch from a compacted resourceVersion gets 410; the script relists and watches on', async (t) => {
  const churn = 2 * WATCH_HISTORY;
  const { out, stderr } = await runScript('watch_expired.py', ['py-expired', String(churn)]);
  t.is(out.error, null, `${out.error}\n${stderr}`);
  t.deepEqual(out.eventsBeforeExpiry, [], 'nothing from before the gap is replayed');
  t.is(out.expired?.status, 410, `the watch from the old resourceVersion: ${JSON.stringify(out.expired)}`);
  t.regex(out.expired.reason, /^Expired: /);
  // The namespace's kube-root-ca.crt is listed too once the root CA publisher has made it.
  const { 'kube-root-ca.crt': rootCa, ...relisted } = out.relisted;
  t.deepEqual(relisted, { churn: { n: String(churn) } });
  if (rootCa) t.is(rootCa['ca.crt'].trim(), cluster.ca.trim());
  t.deepEqual(out.resumed, [{ type: 'ADDED', name: 'after-relist' }]);
});

test('read_namespaced_pod_log(follow=True, _preload_content=False) streams a running pod\'s lines as it prints them', async (t) => {
  const { out, stderr } = await runScript('follow_log.py', ['py-logs']);
  t.is(out.error, null, `${out.error}\n${stderr}`);
  t.false(out.ended, `the log stream closed instead of following; it gave ${JSON.stringify(out.lines)}`);
  t.true(out.lines.length >= 8, JSON.stringify(out.lines));
  const numbers = out.lines.map((l: string) => Number(/^line (\d+)$/.exec(l)?.[1]));
  const first = numbers[0];
  t.deepEqual(numbers, numbers.map((_: number, i: number) => first + i), `consecutive lines: ${JSON.stringify(out.lines)}`);
  // The script stops once past 1 s and rounds to hundredths: 1.001 s reads as 1.
  t.true(out.secondsFollowed >= 1, `followed for ${out.secondsFollowed} s`);
});

test('stream(connect_get_namespaced_pod_exec): stdout and stderr apart, stdin, and the exit code from the error channel', async (t) => {
  const { out, stderr } = await runScript('exec_pod.py', ['py-exec']);
  t.is(out.error, null, `${out.error}\n${stderr}`);
  t.deepEqual(out.failing, { stdout: 'out\n', stderr: 'err\n', returncode: 3 });
  t.deepEqual(out.stdin, { stdout: 'got typed\n', returncode: 0 });
  t.is(out.simple, 'simple\n');
});

test('every served kind is created, read and listed through the typed API, and deserializes', async (t) => {
  await cluster.waitForNodes([node.name]);
  const { out, stderr } = await runScript('typed_kinds.py', ['py-kinds', node.name]);
  const failures = Object.entries(out.results as Record<string, Record<string, any>>).flatMap(([kind, steps]) =>
    Object.entries(steps).filter(([, r]) => !r.ok).map(([step, r]) => `${kind} ${step}: ${r.error}${r.serverAnswered ? `\n    server answered: ${r.serverAnswered}` : ''}`));
  t.deepEqual(failures, [], `${failures.join('\n')}\n${stderr.slice(-2000)}`);
  t.deepEqual(Object.keys(out.results), [
    'Namespace', 'Pod', 'Service', 'Endpoints', 'Event', 'Event (events.k8s.io/v1)', 'ConfigMap', 'Secret', 'Deployment', 'ReplicaSet',
    'DaemonSet', 'StatefulSet', 'ControllerRevision', 'HorizontalPodAutoscaler (autoscaling/v1)', 'Job', 'CronJob', 'Lease', 'PodDisruptionBudget', 'PriorityClass', 'EndpointSlice', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim', 'Node',
  ]);
  t.like(out.results.Pod, { create: { class: 'V1Pod' }, read: { class: 'V1Pod' }, list: { class: 'V1PodList' } });
  t.like(out.results.ReplicaSet, { create: { class: 'V1ReplicaSet' }, read: { class: 'V1ReplicaSet' } });
  t.like(out.results['Event (events.k8s.io/v1)'], { create: { class: 'EventsV1Event' } });
  t.like(out.results.Node, { read: { class: 'V1Node' }, list: { class: 'V1NodeList' } });
});
