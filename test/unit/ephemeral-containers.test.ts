// The rules of ephemeral containers, as Kubernetes' validateEphemeralContainers and
// ValidatePodEphemeralContainersUpdate word them: what one may set, whose name it may have,
// which container it may target, and that a write through pods/ephemeralcontainers only adds.
import test from 'ava';
import type { KubeObject, Pod } from '../../shared/types.ts';
import { computePodStatus } from '../../services/node-agent/pod-logic.ts';
import { isSettled } from '../../services/node-agent/settled.ts';
import type { ObservedContainer } from '../../services/node-agent/runtime/types.ts';
import { validateObject, applyDefaults } from '../../shared/registry/admission.ts';
import { ephemeralContainersUpdateErrors, withEphemeralContainers } from '../../shared/api/ephemeral-containers.ts';

const pod = (ephemeralContainers?: any[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default' },
  spec: {
    initContainers: [{ name: 'init', image: 'busybox' }],
    containers: [{ name: 'app', image: 'busybox' }],
    ...(ephemeralContainers ? { ephemeralContainers } : {}),
  },
});

const causes = (obj: KubeObject) => validateObject('Pod', obj).causes.map((c) => `${c.field}: ${c.message}`);

test('a plain ephemeral container, targeting an app or an init container, is valid', (t) => {
  t.deepEqual(causes(pod([{ name: 'dbg', image: 'busybox', targetContainerName: 'app', stdin: true, tty: true, command: ['sh'] }])), []);
  t.deepEqual(causes(pod([{ name: 'dbg', image: 'busybox', targetContainerName: 'init' }])), []);
  t.deepEqual(causes(pod([{ name: 'dbg', image: 'busybox', securityContext: { capabilities: { add: ['SYS_PTRACE'] } }, volumeMounts: [] }])), []);
});

test('names are unique across containers, init containers and ephemeral containers', (t) => {
  t.deepEqual(causes(pod([{ name: 'app', image: 'busybox' }])), ['spec.ephemeralContainers[0].name: Duplicate value: "app"']);
  t.deepEqual(causes(pod([{ name: 'init', image: 'busybox' }])), ['spec.ephemeralContainers[0].name: Duplicate value: "init"']);
  t.deepEqual(causes(pod([{ name: 'e', image: 'busybox' }, { name: 'e', image: 'busybox' }])), ['spec.ephemeralContainers[1].name: Duplicate value: "e"']);
});

test('the target must be a container or init container of the pod, never another ephemeral one', (t) => {
  t.deepEqual(causes(pod([{ name: 'dbg', image: 'busybox', targetContainerName: 'nope' }])), ['spec.ephemeralContainers[0].targetContainerName: Not found: "nope"']);
  t.deepEqual(causes(pod([{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox', targetContainerName: 'a' }])), ['spec.ephemeralContainers[1].targetContainerName: Not found: "a"']);
});

test('ports, resources, probes, lifecycle, restartPolicy and subPath mounts cannot be set, in Container\'s field order', (t) => {
  const ec = {
    name: 'dbg',
    image: 'busybox',
    lifecycle: { preStop: { exec: { command: ['true'] } } },
    startupProbe: { exec: { command: ['true'] } },
    livenessProbe: { exec: { command: ['true'] } },
    readinessProbe: { exec: { command: ['true'] } },
    restartPolicy: 'Always',
    resources: { requests: { cpu: '100m' } },
    ports: [{ containerPort: 80 }],
  };
  const forbidden = (f: string) => `spec.ephemeralContainers[0].${f}: Forbidden: cannot be set for an Ephemeral Container`;
  t.deepEqual(causes(pod([ec])), ['ports', 'resources', 'restartPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'].map(forbidden));
  const mounted = { ...pod([{ name: 'dbg', image: 'busybox', volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'x' }] }]) };
  mounted.spec.volumes = [{ name: 'v', emptyDir: {} }];
  t.deepEqual(causes(mounted), [forbidden('volumeMounts[0].subPath')]);
  // Empty values are no values: the defaults leave resources {} on every container.
  t.deepEqual(causes(pod([{ name: 'dbg', image: 'busybox', resources: {}, ports: [] }])), []);
});

test('they are defaulted as containers are', (t) => {
  const p = pod([{ name: 'dbg', image: 'busybox:latest' }]);
  applyDefaults('Pod', p);
  t.like(p.spec.ephemeralContainers[0], { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'Always', resources: {} });
});

test('an update through the subresource may add, in any order, but neither change nor remove', (t) => {
  const a = { name: 'a', image: 'busybox', targetContainerName: 'app' };
  const b = { name: 'b', image: 'busybox' };
  t.deepEqual(ephemeralContainersUpdateErrors(pod([a, b]), pod([a])), []);
  t.deepEqual(ephemeralContainersUpdateErrors(pod([b, a]), pod([a])), [], 'a patch does not keep the order');
  t.deepEqual(ephemeralContainersUpdateErrors(pod([b]), pod([a])), [{ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: existing ephemeral containers "a" may not be removed\n' }]);
  t.deepEqual(ephemeralContainersUpdateErrors(pod(), pod([a])).map((c) => c.message), ['Forbidden: existing ephemeral containers "a" may not be removed\n']);
  const [changed] = ephemeralContainersUpdateErrors(pod([{ ...a, image: 'alpine' }]), pod([a]));
  t.is(changed.field, 'spec.ephemeralContainers');
  t.true(changed.message.startsWith('Forbidden: existing ephemeral containers "a" may not be changed\n'));
  t.regex(changed.message, /image/);
});

test('a static (mirror) pod has no ephemeral containers', (t) => {
  const mirror = pod();
  mirror.metadata.annotations = { 'kubernetes.io/config.mirror': 'x' };
  t.deepEqual(ephemeralContainersUpdateErrors(pod([{ name: 'a', image: 'busybox' }]), mirror).map((c) => `${c.field}: ${c.message}`), [': Forbidden: static pods do not support ephemeral containers']);
});

test('a write through the subresource takes only spec.ephemeralContainers from the writer', (t) => {
  const old = pod([{ name: 'a', image: 'busybox' }]);
  old.metadata.labels = { keep: 'me' };
  const input = pod([{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox' }]);
  input.metadata.labels = { changed: 'yes' };
  input.spec.containers[0].image = 'alpine';
  const next = withEphemeralContainers(old, input);
  t.deepEqual(next.metadata.labels, { keep: 'me' });
  t.is(next.spec.containers[0].image, 'busybox');
  t.deepEqual(next.spec.ephemeralContainers.map((c: any) => c.name), ['a', 'b']);
  t.deepEqual(old.spec.ephemeralContainers.map((c: any) => c.name), ['a'], 'the stored object is not touched');
});

// ---- the node agent's status of them (pure) ---------------------------------------------------

const NOW = '2024-06-01T12:00:00Z';
const podId = { namespace: 'default', name: 'p', uid: 'u1', node: 'n1' };
const observed = (name: string, role: ObservedContainer['role'], state: ObservedContainer['state'], extra: Partial<ObservedContainer> = {}): ObservedContainer => ({
  id: `${name}-id`, pod: podId, name, role, image: 'busybox', imageId: 'sha256:1', attempt: 0, state, createdAt: '2024-06-01T11:00:00Z', startedAt: '2024-06-01T11:00:01Z', ...extra,
});

test('ephemeralContainerStatuses: running, then terminated with its exit code; never ready, never restarted; the phase is the app containers\'', (t) => {
  const p = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'app', image: 'busybox' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox', targetContainerName: 'app' }, { name: 'waiting', image: 'busybox' }] },
  } as Pod;
  const base = [observed('POD', 'sandbox', 'running', { ip: '10.0.0.2' }), observed('app', 'app', 'running')];
  const input = (extra: ObservedContainer[]) => ({ pod: p, observed: [...base, ...extra], backoff: {}, podIP: '10.0.0.2', hostIP: '127.0.0.1', nowIso: NOW, runtime: 'docker' });

  let st = computePodStatus(input([observed('dbg', 'ephemeral', 'running')])) as any;
  t.is(st.phase, 'Running');
  t.deepEqual(st.ephemeralContainerStatuses.map((s: any) => s.name), ['dbg', 'waiting']);
  t.deepEqual(st.ephemeralContainerStatuses[0], {
    name: 'dbg', image: 'busybox', imageID: 'sha256:1', ready: false, restartCount: 0, containerID: 'docker://dbg-id',
    state: { running: { startedAt: '2024-06-01T11:00:01Z' } }, lastState: {},
  });
  t.deepEqual(st.ephemeralContainerStatuses[1].state, { waiting: { reason: 'ContainerCreating' } });

  st = computePodStatus(input([observed('dbg', 'ephemeral', 'exited', { exitCode: 3, finishedAt: '2024-06-01T11:00:05Z' })])) as any;
  t.like(st.ephemeralContainerStatuses[0].state.terminated, { exitCode: 3, reason: 'Error', containerID: 'docker://dbg-id' });
  t.is(st.phase, 'Running', 'a failed ephemeral container does not fail the pod');
  t.is(st.containerStatuses.length, 1);
  t.is(st.conditions.find((c: any) => c.type === 'Ready').status, 'True', 'nor does a waiting one keep it unready');
});

test('a running pod is settled for a resync only once its ephemeral containers exist and their status says so', (t) => {
  const p = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: { containers: [{ name: 'app', image: 'busybox' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'busybox', state: { running: {} } }] },
  } as Pod;
  const app = observed('app', 'app', 'running');
  t.false(isSettled(p, [app]), 'not started yet');
  const dbg = observed('dbg', 'ephemeral', 'exited', { exitCode: 0 });
  t.false(isSettled(p, [app, dbg]), 'started, status not written');
  (p.status as any).ephemeralContainerStatuses = [{ name: 'dbg', state: { terminated: { exitCode: 0 } } }];
  t.true(isSettled(p, [app, dbg]));
});
