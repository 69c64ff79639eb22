// The pure parts of resource metrics: cgroup file parsing and the working set, rates between two
// readings, a pass's pod and node samples, metrics-server's quantity and window formats, and the
// metrics.k8s.io paths. The cgroup reader is also checked against a cgroup tree laid out in a
// temporary directory as each version and driver lays it out.
import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupStats, meminfoUsedBytes, parseFlatKeyed, procStatCpuNanos, workingSet } from '../../services/node-agent/runtime/cgroup-stats.ts';
import { cpuRate, nodeSample, podSamples, type Reading } from '../../services/node-agent/usage-logic.ts';
import { cpuQuantity, goDuration, memoryQuantity, parseMetricsPath } from '../../services/api/metrics-api.ts';
import type { ObservedContainer } from '../../services/node-agent/runtime/types.ts';

test('cgroup files: flat keyed values, the working set never below 0', (t) => {
  const stat = parseFlatKeyed('usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n');
  t.is(stat.get('usage_usec'), 1500);
  t.is(workingSet(10_000, 4_000), 6_000);
  t.is(workingSet(1_000, 4_000), 0);
  t.is(workingSet(1_000, undefined), 1_000);
});

test('/proc figures for a node on cgroup v2: busy jiffies as nanoseconds, MemTotal - MemAvailable', (t) => {
  t.is(procStatCpuNanos('cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 1 2 3 4\n'), (100 + 5 + 50 + 3 + 2 + 1) * 1e7);
  t.is(meminfoUsedBytes('MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    400 kB\n'), 600 * 1024);
  t.is(meminfoUsedBytes('MemTotal: 1000 kB\n'), undefined);
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'wharf-cgroup-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('cgroup v2 with the systemd driver: usage_usec, memory.current minus inactive_file', async (t) => {
  const id = 'abc123';
  const root = tree({
    'cgroup.controllers': 'cpu memory',
    [`system.slice/docker-${id}.scope/cpu.stat`]: 'usage_usec 2500000\nuser_usec 2000000\n',
    [`system.slice/docker-${id}.scope/memory.current`]: '8388608\n',
    [`system.slice/docker-${id}.scope/memory.stat`]: 'anon 4194304\nfile 4194304\ninactive_file 1048576\nactive_file 3145728\n',
  });
  const stats = new CgroupStats(root);
  t.deepEqual(await stats.container(id), { cpuNanos: 2_500_000_000, memoryWorkingSetBytes: 8388608 - 1048576 });
  t.is(await stats.container('missing'), undefined);
});

test('cgroup v1 with the cgroupfs driver: cpuacct.usage, usage_in_bytes minus total_inactive_file; the root for the node', async (t) => {
  const id = 'def456';
  const root = tree({
    'cpuacct/cpuacct.usage': '900000000000\n',
    'memory/memory.usage_in_bytes': '2000000000\n',
    'memory/memory.stat': 'cache 1\ninactive_file 5\ntotal_inactive_file 500000000\n',
    [`cpuacct/docker/${id}/cpuacct.usage`]: '3000000000\n',
    [`memory/docker/${id}/memory.usage_in_bytes`]: '10485760\n',
    [`memory/docker/${id}/memory.stat`]: 'inactive_file 4096\ntotal_inactive_file 2097152\n',
  });
  const stats = new CgroupStats(root);
  t.deepEqual(await stats.container(id), { cpuNanos: 3_000_000_000, memoryWorkingSetBytes: 10485760 - 2097152 });
  t.deepEqual(await stats.node(), { cpuNanos: 900_000_000_000, memoryWorkingSetBytes: 1_500_000_000 });
});

test('no cgroups readable: nothing, so the runtime asks the engine', async (t) => {
  const stats = new CgroupStats(tree({ 'unrelated': '' }));
  t.is(await stats.container('x'), undefined);
});

const reading = (at: number, cpuNanos: number, memoryWorkingSetBytes = 0): Reading => ({ at, usage: { cpuNanos, memoryWorkingSetBytes } });

test('CPU is the rate between two readings, in nanocores; no time or a counter gone back gives none', (t) => {
  t.deepEqual(cpuRate(reading(1_000, 0), reading(3_000, 1e9)), { nanoCores: 5e8, windowSeconds: 2 });
  t.is(cpuRate(reading(1_000, 0), reading(1_000, 1e9)), undefined);
  t.is(cpuRate(reading(1_000, 5), reading(2_000, 4)), undefined);
});

function container(pod: string, name: string, id: string, extra: Partial<ObservedContainer> = {}): ObservedContainer {
  return { id, pod: { namespace: 'default', name: pod, uid: `uid-${pod}`, node: 'n1' }, name, role: 'app', image: 'busybox', attempt: 0, state: 'running', createdAt: '2026-01-01T00:00:00Z', startedAt: '2026-01-01T00:00:00Z', ...extra };
}

test('a pass: app containers only, a new container measured from its start, a pod with an unread container left out', (t) => {
  const start = Date.parse('2026-01-01T00:00:00Z');
  const at = start + 10_000;
  const containers = [
    container('a', 'main', 'a1'),
    container('a', 'side', 'a2'),
    container('a', 'POD', 'a0', { role: 'sandbox' }),
    container('b', 'main', 'b1'),
    container('c', 'main', 'c1', { state: 'exited' }),
  ];
  const read = new Map([
    ['a1', { cpuNanos: 5e9, memoryWorkingSetBytes: 1024 }],
    ['a2', { cpuNanos: 2e9, memoryWorkingSetBytes: 2048 }],
    ['a0', { cpuNanos: 1e9, memoryWorkingSetBytes: 1 }],
  ]);
  const previous = new Map([['a2', reading(at - 2_000, 1e9)]]);
  const { pods, readings } = podSamples('n1', containers, read, previous, at);
  t.is(pods.length, 1, 'b has a container not read');
  t.is(pods[0].name, 'a');
  t.deepEqual(pods[0].containers, [
    { name: 'main', cpuNanoCores: 5e8, memoryBytes: 1024 }, // 5 s of CPU over its 10 s life
    { name: 'side', cpuNanoCores: 5e8, memoryBytes: 2048 }, // 1 s over the 2 s since the last pass
  ]);
  t.is(pods[0].windowSeconds, 10);
  t.deepEqual([...readings.keys()].sort(), ['a1', 'a2']);

  const node = nodeSample('n1', pods, undefined, undefined, at, 15);
  t.deepEqual({ cpu: node.cpuNanoCores, memory: node.memoryBytes }, { cpu: 1e9, memory: 3072 }, 'no host figures: the sum of the pods');
  const host = nodeSample('n1', pods, reading(at, 20e9, 1 << 30), reading(at - 5_000, 10e9), at, 15);
  t.deepEqual({ cpu: host.cpuNanoCores, memory: host.memoryBytes, window: host.windowSeconds }, { cpu: 2e9, memory: 1 << 30, window: 5 });
});

test('quantities as metrics-server writes them: CPU in n, memory in Ki (or a larger exact binary suffix)', (t) => {
  t.is(cpuQuantity(1_234_567), '1234567n');
  t.is(cpuQuantity(5_000_000), '5m');
  t.is(cpuQuantity(0), '0');
  t.is(memoryQuantity(4096 * 3), '12Ki');
  t.is(memoryQuantity(2 * 1024 * 1024), '2Mi');
  t.is(memoryQuantity(1000), '1k'); // under 1024 Go prints BinarySI as DecimalSI
  t.is(memoryQuantity(1001), '1001');
  t.is(goDuration(15), '15s');
  t.is(goDuration(1.0425), '1.043s');
  t.is(goDuration(60.25), '1m0.25s');
});

test('metrics.k8s.io paths', (t) => {
  t.deepEqual(parseMetricsPath('/apis/metrics.k8s.io/v1beta1/nodes'), { resource: 'nodes', name: undefined });
  t.deepEqual(parseMetricsPath('/apis/metrics.k8s.io/v1beta1/nodes/n1'), { resource: 'nodes', name: 'n1' });
  t.deepEqual(parseMetricsPath('/apis/metrics.k8s.io/v1beta1/pods'), { resource: 'pods' });
  t.deepEqual(parseMetricsPath('/apis/metrics.k8s.io/v1beta1/namespaces/d/pods'), { resource: 'pods', namespace: 'd', name: undefined });
  t.deepEqual(parseMetricsPath('/apis/metrics.k8s.io/v1beta1/namespaces/d/pods/p'), { resource: 'pods', namespace: 'd', name: 'p' });
  t.is(parseMetricsPath('/apis/metrics.k8s.io/v1beta1/namespaces/d/pods/p/log'), undefined);
  t.is(parseMetricsPath('/apis/metrics.k8s.io/v1beta1/services'), undefined);
  t.is(parseMetricsPath('/apis/apps/v1/deployments'), undefined);
});
