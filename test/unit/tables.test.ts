import test from 'ava';
import { renderList, renderWatchObject, wantsTable } from '../../services/api/tables.ts';
import { humanDuration, podStatusReason } from '../../shared/api/printers.ts';
import { mustFindByPlural } from '../../shared/api/resources.ts';
import type { Pod } from '../../shared/types.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

// ---------------------------------------------------------------------------------------------
// humanDuration: Kubernetes' apimachinery duration.HumanDuration (and its unit tests)
// ---------------------------------------------------------------------------------------------

const durations: [number, string][] = [
  [0, '0s'],
  [999, '0s'],
  [S, '1s'],
  [45 * S, '45s'],
  [70 * S, '70s'],
  [119 * S, '119s'],
  [119 * S + 999, '119s'],
  [2 * M, '2m'],
  [190 * S, '3m10s'],
  [5 * M + 3 * S, '5m3s'],
  [7 * M, '7m'],
  [9 * M + 59 * S, '9m59s'],
  [10 * M, '10m'],
  [10 * M + 30 * S, '10m'],
  [70 * M, '70m'],
  [179 * M + 59 * S, '179m'],
  [3 * H, '3h'],
  [3 * H + 12 * M, '3h12m'],
  [7 * H + 59 * M, '7h59m'],
  [8 * H, '8h'],
  [8 * H + 30 * M, '8h'],
  [47 * H, '47h'],
  [48 * H, '2d'],
  [49 * H, '2d1h'],
  [2 * D + 4 * H, '2d4h'],
  [7 * D + 23 * H, '7d23h'],
  [8 * D, '8d'],
  [8 * D + 2 * H, '8d'],
  [367 * D, '367d'],
  [400 * D, '400d'],
  [729 * D, '729d'],
  [730 * D, '2y'],
  [(365 * 2 * 24 + 25) * H, '2y1d'],
  [3 * 365 * D, '3y'],
  [3 * 365 * D + 100 * D, '3y100d'],
  [(365 * 8 * 24 + 2) * H, '8y'],
  [10 * 365 * D, '10y'],
  [-S, '0s'], // up to one second in the future is "now" (clock skew)
  [-500, '0s'],
  [-2 * S, '<invalid>'],
  [-60 * S, '<invalid>'],
];

for (const [ms, expected] of durations) {
  test(`humanDuration(${ms}ms) = ${expected}`, (t) => {
    t.is(humanDuration(ms), expected);
  });
}

test('humanDuration(-1500ms) = "0s": Kubernetes truncates seconds toward zero', (t) => {
  // BUG: Math.floor(-1.5) = -2 -> "<invalid>"; Kubernetes' int(d.Seconds()) truncates to -1 -> "0s"
  // (anything under 2s in the future counts as now). Use Math.trunc.
  t.is(humanDuration(-1500), '0s');
  t.is(humanDuration(-1999), '0s');
});

// ---------------------------------------------------------------------------------------------
// podStatusReason: kubectl's STATUS column (printPod)
// ---------------------------------------------------------------------------------------------

function pod(status: any, extra: { deletionTimestamp?: string; initContainers?: number; containers?: number } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', ...(extra.deletionTimestamp ? { deletionTimestamp: extra.deletionTimestamp } : {}) },
    spec: {
      containers: Array.from({ length: extra.containers ?? 1 }, (_, i) => ({ name: `c${i}`, image: 'x' })),
      ...(extra.initContainers ? { initContainers: Array.from({ length: extra.initContainers }, (_, i) => ({ name: `i${i}`, image: 'x' })) } : {}),
    },
    status,
  };
}

const running = (ready = true) => ({ name: 'c', ready, restartCount: 0, image: 'x', state: { running: { startedAt: '2024-01-01T00:00:00Z' } } });
const waiting = (reason: string) => ({ name: 'c', ready: false, restartCount: 0, image: 'x', state: { waiting: { reason } } });
const terminated = (t: any) => ({ name: 'c', ready: false, restartCount: 0, image: 'x', state: { terminated: t } });
const readyCond = (s: 'True' | 'False') => [{ type: 'Ready', status: s }];

const reasons: [string, Pod, string][] = [
  ['no status at all', pod(undefined), 'Pending'],
  ['phase only', pod({ phase: 'Pending' }), 'Pending'],
  ['Running and ready', pod({ phase: 'Running', containerStatuses: [running()], conditions: readyCond('True') }), 'Running'],
  ['Running but not ready', pod({ phase: 'Running', containerStatuses: [running(false)] }), 'Running'],
  ['ContainerCreating', pod({ phase: 'Pending', containerStatuses: [waiting('ContainerCreating')] }), 'ContainerCreating'],
  ['CrashLoopBackOff', pod({ phase: 'Running', containerStatuses: [waiting('CrashLoopBackOff')] }), 'CrashLoopBackOff'],
  ['ImagePullBackOff', pod({ phase: 'Pending', containerStatuses: [waiting('ImagePullBackOff')] }), 'ImagePullBackOff'],
  ['ErrImagePull', pod({ phase: 'Pending', containerStatuses: [waiting('ErrImagePull')] }), 'ErrImagePull'],
  ['Completed', pod({ phase: 'Succeeded', containerStatuses: [terminated({ exitCode: 0, reason: 'Completed' })] }), 'Completed'],
  ['Error', pod({ phase: 'Failed', containerStatuses: [terminated({ exitCode: 1, reason: 'Error' })] }), 'Error'],
  ['OOMKilled', pod({ phase: 'Failed', containerStatuses: [terminated({ exitCode: 137, reason: 'OOMKilled' })] }), 'OOMKilled'],
  ['terminated without reason: ExitCode', pod({ phase: 'Failed', containerStatuses: [terminated({ exitCode: 2 })] }), 'ExitCode:2'],
  ['terminated without reason: Signal', pod({ phase: 'Failed', containerStatuses: [terminated({ exitCode: 137, signal: 9 })] }), 'Signal:9'],
  ['status.reason wins over phase', pod({ phase: 'Failed', reason: 'Evicted' }), 'Evicted'],
  [
    'first container decides (statuses are walked backwards)',
    pod({ phase: 'Running', containerStatuses: [waiting('CrashLoopBackOff'), running()] }, { containers: 2 }),
    'CrashLoopBackOff',
  ],
  [
    'Completed sidecar-style container with a running ready one and Ready pod -> Running',
    pod({ phase: 'Running', containerStatuses: [running(), terminated({ exitCode: 0, reason: 'Completed' })], conditions: readyCond('True') }, { containers: 2 }),
    'Running',
  ],
  [
    'Completed container with a running ready one but pod not Ready -> NotReady',
    pod({ phase: 'Running', containerStatuses: [running(), terminated({ exitCode: 0, reason: 'Completed' })], conditions: readyCond('False') }, { containers: 2 }),
    'NotReady',
  ],
  ['Init:0/1 while the init container runs', pod({ phase: 'Pending', initContainerStatuses: [running(false)], containerStatuses: [waiting('PodInitializing')] }, { initContainers: 1 }), 'Init:0/1'],
  ['Init:0/1 while the init container is PodInitializing', pod({ phase: 'Pending', initContainerStatuses: [waiting('PodInitializing')] }, { initContainers: 1 }), 'Init:0/1'],
  [
    'Init:1/2 after the first init container',
    pod({ phase: 'Pending', initContainerStatuses: [terminated({ exitCode: 0, reason: 'Completed' }), running(false)] }, { initContainers: 2 }),
    'Init:1/2',
  ],
  ['Init:CrashLoopBackOff', pod({ phase: 'Pending', initContainerStatuses: [waiting('CrashLoopBackOff')] }, { initContainers: 1 }), 'Init:CrashLoopBackOff'],
  ['Init:ErrImagePull', pod({ phase: 'Pending', initContainerStatuses: [waiting('ErrImagePull')] }, { initContainers: 1 }), 'Init:ErrImagePull'],
  ['Init:Error', pod({ phase: 'Failed', initContainerStatuses: [terminated({ exitCode: 1, reason: 'Error' })] }, { initContainers: 1 }), 'Init:Error'],
  ['Init:ExitCode', pod({ phase: 'Pending', initContainerStatuses: [terminated({ exitCode: 3 })] }, { initContainers: 1 }), 'Init:ExitCode:3'],
  ['Init:Signal', pod({ phase: 'Pending', initContainerStatuses: [terminated({ exitCode: 0, signal: 9 })].map((c) => ({ ...c, state: { terminated: { exitCode: 1, signal: 9 } } })) }, { initContainers: 1 }), 'Init:Signal:9'],
  [
    'init done: the app containers decide',
    pod({ phase: 'Running', initContainerStatuses: [terminated({ exitCode: 0, reason: 'Completed' })], containerStatuses: [running()], conditions: readyCond('True') }, { initContainers: 1 }),
    'Running',
  ],
  ['Terminating', pod({ phase: 'Running', containerStatuses: [running()] }, { deletionTimestamp: '2024-01-01T00:00:00Z' }), 'Terminating'],
  ['Terminating while pending', pod({ phase: 'Pending', containerStatuses: [waiting('ContainerCreating')] }, { deletionTimestamp: '2024-01-01T00:00:00Z' }), 'Terminating'],
  ['NodeLost while deleting -> Unknown', pod({ phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: '2024-01-01T00:00:00Z' }), 'Unknown'],
];

for (const [name, p, expected] of reasons) {
  test(`podStatusReason: ${name} -> ${expected}`, (t) => {
    t.is(podStatusReason(p), expected);
  });
}

test('podStatusReason: a finished pod being deleted shows its final status, not Terminating', (t) => {
  // BUG: Kubernetes' printPod (v1.27+) only prints "Terminating" when deletionTimestamp is set AND
  // the phase is not terminal (Succeeded/Failed): a Completed Job pod being deleted still reads
  // "Completed". Wharf prints "Terminating" for any pod with a deletionTimestamp.
  const p = pod({ phase: 'Succeeded', containerStatuses: [terminated({ exitCode: 0, reason: 'Completed' })] }, { deletionTimestamp: '2024-01-01T00:00:00Z' });
  t.is(podStatusReason(p), 'Completed');
});

// ---------------------------------------------------------------------------------------------
// wantsTable / renderList / renderWatchObject
// ---------------------------------------------------------------------------------------------

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const req = (accept: string | undefined, query: Record<string, string> = {}) => ({ headers: accept === undefined ? {} : { accept }, query }) as any;

const wants: [string | undefined, boolean][] = [
  [TABLE_ACCEPT, true],
  ['application/json;as=Table;v=v1;g=meta.k8s.io', true],
  ['application/json', false],
  ['*/*', false],
  [undefined, false],
  ['application/json,application/json;as=Table;v=v1;g=meta.k8s.io', false],
];

for (const [accept, expected] of wants) {
  test(`wantsTable(${JSON.stringify(accept)}) = ${expected}`, (t) => {
    t.is(wantsTable(req(accept)), expected);
  });
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

test('renderList for pods: a meta.k8s.io/v1 Table with kubectl columns and cells', (t) => {
  const pods = mustFindByPlural('pods');
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default', creationTimestamp: ago(5 * M + 3 * S + 400), uid: 'u' },
    spec: { nodeName: 'node-1', containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] },
    status: {
      phase: 'Running',
      podIP: '10.0.0.9',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [
        { name: 'a', ready: true, restartCount: 2, image: 'x', state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: ago(45 * S + 400) } } },
        { name: 'b', ready: false, restartCount: 1, image: 'y', state: { waiting: { reason: 'CrashLoopBackOff' } } },
      ],
    },
  };
  const table: any = renderList(pods, [p], '42', req(TABLE_ACCEPT));
  t.is(table.kind, 'Table');
  t.is(table.apiVersion, 'meta.k8s.io/v1');
  t.deepEqual(table.metadata, { resourceVersion: '42' });
  t.deepEqual(
    table.columnDefinitions.map((c: any) => [c.name, c.priority]),
    [['Name', 0], ['Ready', 0], ['Status', 0], ['Restarts', 0], ['Age', 0], ['IP', 1], ['Node', 1], ['Nominated Node', 1], ['Readiness Gates', 1]],
  );
  for (const c of table.columnDefinitions) {
    t.is(typeof c.type, 'string');
    t.is(typeof c.format, 'string');
    t.is(typeof c.description, 'string');
  }
  t.is(table.columnDefinitions[0].format, 'name');
  t.is(table.rows.length, 1);
  t.deepEqual(table.rows[0].cells, ['web-1', '1/2', 'CrashLoopBackOff', '3 (45s ago)', '5m3s', '10.0.0.9', 'node-1', '<none>', '<none>']);
  // Default includeObject=Metadata: PartialObjectMetadata.
  t.deepEqual(table.rows[0].object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: p.metadata });
});

test('renderList: includeObject=None and includeObject=Object', (t) => {
  const cms = mustFindByPlural('configmaps');
  const cm = { metadata: { name: 'cfg', namespace: 'default', creationTimestamp: ago(10 * S) }, data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } } as any;
  const none: any = renderList(cms, [cm], '1', req(TABLE_ACCEPT, { includeObject: 'None' }));
  t.is(none.rows[0].object, undefined);
  t.deepEqual(none.rows[0].cells, ['cfg', 3, '10s']);
  const full: any = renderList(cms, [cm], '1', req(TABLE_ACCEPT, { includeObject: 'Object' }));
  t.is(full.rows[0].object.kind, 'ConfigMap');
  t.is(full.rows[0].object.apiVersion, 'v1');
  t.deepEqual(full.rows[0].object.data, cm.data);
});

test('renderList: empty list still has column definitions', (t) => {
  const table: any = renderList(mustFindByPlural('deployments'), [], '7', req(TABLE_ACCEPT));
  t.deepEqual(table.rows, []);
  t.deepEqual(table.columnDefinitions.map((c: any) => c.name), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
});

test('renderList for deployments and replicasets', (t) => {
  const spec = {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: { spec: { containers: [{ name: 'app', image: 'nginx:1.25' }, { name: 'side', image: 'busybox' }] } },
  };
  const d = { metadata: { name: 'web', creationTimestamp: ago(3 * H + 12 * M + 30 * S) }, spec, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 1 } } as any;
  const dt: any = renderList(mustFindByPlural('deployments'), [d], '1', req(TABLE_ACCEPT));
  t.deepEqual(dt.rows[0].cells, ['web', '2/3', 3, 1, '3h12m', 'app,side', 'nginx:1.25,busybox', 'app=web']);
  const r = { metadata: { name: 'web-abc', creationTimestamp: ago(52 * H + 10 * M) }, spec, status: { replicas: 4, readyReplicas: 2 } } as any;
  const rt: any = renderList(mustFindByPlural('replicasets'), [r], '1', req(TABLE_ACCEPT));
  t.deepEqual(rt.columnDefinitions.map((c: any) => c.name), ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers', 'Images', 'Selector']);
  t.deepEqual(rt.rows[0].cells, ['web-abc', 3, 4, 2, '2d4h', 'app,side', 'nginx:1.25,busybox', 'app=web']);
});

test('renderList for nodes: status and roles', (t) => {
  const n = {
    metadata: { name: 'n1', creationTimestamp: ago(45 * S), labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/worker': '' } },
    spec: { unschedulable: true },
    status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0' }, addresses: [{ type: 'InternalIP', address: '192.168.0.2' }] },
  } as any;
  const nt: any = renderList(mustFindByPlural('nodes'), [n], '1', req(TABLE_ACCEPT));
  t.deepEqual(nt.rows[0].cells.slice(0, 6), ['n1', 'Ready,SchedulingDisabled', 'control-plane,worker', '45s', 'v1.32.0', '192.168.0.2']);
  const bare = { metadata: { name: 'n2' }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } } as any;
  const bt: any = renderList(mustFindByPlural('nodes'), [bare], '1', req(TABLE_ACCEPT));
  t.deepEqual(bt.rows[0].cells.slice(0, 4), ['n2', 'Unknown', '<none>', '<unknown>']);
  const notReady = { metadata: { name: 'n3' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } } as any;
  t.is((renderList(mustFindByPlural('nodes'), [notReady], '1', req(TABLE_ACCEPT)) as any).rows[0].cells[1], 'NotReady');
});

test('renderList for services: type, IPs, ports', (t) => {
  const svcs = [
    { metadata: { name: 'a' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], selector: { app: 'dns' } } },
    { metadata: { name: 'b' }, spec: { type: 'NodePort', clusterIP: '10.96.0.11', ports: [{ port: 80, nodePort: 30080 }] } },
    { metadata: { name: 'c' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.12', ports: [{ port: 443, nodePort: 30443, protocol: 'TCP' }] } },
    { metadata: { name: 'd' }, spec: { type: 'ClusterIP', clusterIP: 'None' } },
  ] as any[];
  const tb: any = renderList(mustFindByPlural('services'), svcs, '1', req(TABLE_ACCEPT));
  const cells = tb.rows.map((r: any) => [r.cells[0], r.cells[1], r.cells[2], r.cells[3], r.cells[4], r.cells[6]]);
  t.deepEqual(cells, [
    ['a', 'ClusterIP', '10.96.0.10', '<none>', '53/UDP,53/TCP', 'app=dns'],
    ['b', 'NodePort', '10.96.0.11', '<none>', '80:30080/TCP', '<none>'],
    ['c', 'LoadBalancer', '10.96.0.12', '<pending>', '443:30443/TCP', '<none>'],
    ['d', 'ClusterIP', 'None', '<none>', '<none>', '<none>'],
  ]);
});

test('renderList for endpoints: more than three addresses are summarised', (t) => {
  const ep = {
    metadata: { name: 'web' },
    subsets: [{ addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'].map((ip) => ({ ip })), ports: [{ port: 80 }] }],
  } as any;
  const tb: any = renderList(mustFindByPlural('endpoints'), [ep, { metadata: { name: 'empty' } }], '1', req(TABLE_ACCEPT));
  t.is(tb.rows[0].cells[1], '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...');
  t.is(tb.rows[1].cells[1], '<none>');
});

test('renderWatchObject: Table only when asked; column definitions only in the first event', (t) => {
  const pods = mustFindByPlural('pods');
  const p = { metadata: { name: 'x', resourceVersion: '9' }, spec: { containers: [] } } as any;
  const plain: any = renderWatchObject(pods, p, req('application/json'), true);
  t.is(plain.kind, 'Pod');
  t.is(plain.apiVersion, 'v1');
  const first: any = renderWatchObject(pods, p, req(TABLE_ACCEPT), true);
  t.is(first.kind, 'Table');
  t.is(first.metadata.resourceVersion, '9');
  t.true(first.columnDefinitions.length > 0);
  t.is(first.rows.length, 1);
  const later: any = renderWatchObject(pods, p, req(TABLE_ACCEPT), false);
  t.deepEqual(later.columnDefinitions, []);
  t.is(later.rows.length, 1);
});
