import test from 'ava';
import {
  backoffDelay,
  afterExit,
  containerStep,
  latestAttempt,
  computePodStatus,
  type BackoffPolicy,
  type BackoffEntry,
  type BackoffState,
  type StatusInput,
} from '../../services/node-agent/pod-logic.ts';
import type { ObservedContainer } from '../../services/node-agent/runtime/types.ts';
import type { Container, Pod, Condition } from '../../shared/types.ts';

const POLICY: BackoffPolicy = { baseMs: 10_000, maxMs: 300_000, resetMs: 600_000 };
const NOW = '2024-06-01T12:00:00Z';
const NOW_MS = Date.parse(NOW);
const at = (offsetS: number) => new Date(NOW_MS + offsetS * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

// ---------------------------------------------------------------------------------------------
// backoffDelay / afterExit
// ---------------------------------------------------------------------------------------------

const delays: [number, number][] = [
  [-1, 0],
  [0, 0],
  [1, 10_000],
  [2, 20_000],
  [3, 40_000],
  [4, 80_000],
  [5, 160_000],
  [6, 300_000], // 320s capped
  [7, 300_000],
  [50, 300_000],
];

for (const [failures, expected] of delays) {
  test(`backoffDelay(${failures}) = ${expected}ms`, (t) => {
    t.is(backoffDelay(failures, POLICY), expected);
  });
}

test('backoffDelay honours a custom policy', (t) => {
  t.is(backoffDelay(1, { baseMs: 500, maxMs: 1500, resetMs: 1 }), 500);
  t.is(backoffDelay(2, { baseMs: 500, maxMs: 1500, resetMs: 1 }), 1000);
  t.is(backoffDelay(3, { baseMs: 500, maxMs: 1500, resetMs: 1 }), 1500);
});

test('afterExit: first crash restarts immediately, then 10s, 20s, 40s ...', (t) => {
  let entry: BackoffEntry | undefined;
  const delaysSeen: number[] = [];
  let finished = 1_000_000;
  for (let i = 0; i < 8; i++) {
    entry = afterExit(entry, 1_000, finished, POLICY);
    t.is(entry.failures, i + 1);
    t.is(entry.notBefore, finished + entry.delayMs!);
    delaysSeen.push(entry.delayMs!);
    finished += 1_000_000;
  }
  t.deepEqual(delaysSeen, [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
});

test('afterExit: a run of at least resetMs starts the count again', (t) => {
  const entry: BackoffEntry = { failures: 5, notBefore: 0, delayMs: 160_000 };
  const reset = afterExit(entry, 600_000, 42, POLICY);
  t.deepEqual(reset, { failures: 1, notBefore: 42, delayMs: 0 });
  const longer = afterExit(entry, 3_600_000, 42, POLICY);
  t.is(longer.delayMs, 0);
});

test('afterExit: a run just shorter than resetMs keeps doubling', (t) => {
  const entry: BackoffEntry = { failures: 3, notBefore: 0, delayMs: 20_000 };
  const next = afterExit(entry, 599_999, 100, POLICY);
  t.deepEqual(next, { failures: 4, notBefore: 100 + 40_000, delayMs: 40_000 });
});

test('afterExit drops a pull-error message', (t) => {
  const next = afterExit({ failures: 1, notBefore: 0, message: 'pull failed' }, 0, 0, POLICY);
  t.is(next.message, undefined);
});

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const podId = { namespace: 'default', name: 'web', uid: 'u1', node: 'node-1' };

let idSeq = 0;
function obs(name: string, state: ObservedContainer['state'], extra: Partial<ObservedContainer> = {}): ObservedContainer {
  idSeq++;
  return {
    id: `c${idSeq}`,
    pod: podId,
    name,
    role: 'app',
    image: 'nginx:1.25',
    imageId: 'sha256:abc',
    attempt: 0,
    state,
    createdAt: at(-100 + idSeq),
    ...(state !== 'created' ? { startedAt: at(-90) } : {}),
    ...(state === 'exited' ? { finishedAt: at(-5), exitCode: 0 } : {}),
    ...extra,
  };
}

const sandbox = (): ObservedContainer => ({ id: 'sb', pod: podId, name: 'POD', role: 'sandbox', image: 'pause', attempt: 0, state: 'running', createdAt: at(-200), ip: '10.0.0.7' });

function pod(containers: string[], restartPolicy?: 'Always' | 'OnFailure' | 'Never', initContainers: string[] = [], status?: Pod['status']): Pod {
  const c = (name: string): Container => ({ name, image: 'nginx:1.25' });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: { containers: containers.map(c), ...(initContainers.length ? { initContainers: initContainers.map(c) } : {}), ...(restartPolicy ? { restartPolicy } : {}) },
    ...(status ? { status } : {}),
  };
}

function status(p: Pod, observed: ObservedContainer[], backoff: BackoffState = {}, extra: Partial<StatusInput> = {}) {
  return computePodStatus({ pod: p, observed, backoff, podIP: '10.0.0.7', hostIP: '192.168.1.2', nowIso: NOW, runtime: 'docker', ...extra });
}

const conditionOf = (s: ReturnType<typeof computePodStatus>, type: string) => s.conditions!.find((c) => c.type === type)!;

// ---------------------------------------------------------------------------------------------
// latestAttempt
// ---------------------------------------------------------------------------------------------

test('latestAttempt picks the highest attempt and ignores the sandbox and other names', (t) => {
  const a0 = obs('app', 'exited', { attempt: 0 });
  const a2 = obs('app', 'exited', { attempt: 2 });
  const a1 = obs('app', 'exited', { attempt: 1 });
  const other = obs('other', 'running', { attempt: 9 });
  t.is(latestAttempt([a0, a2, a1, other, sandbox()], 'app'), a2);
  t.is(latestAttempt([sandbox()], 'POD'), undefined);
  t.is(latestAttempt([], 'app'), undefined);
});

test('latestAttempt breaks attempt ties by creation time', (t) => {
  const early = obs('app', 'exited', { attempt: 1, createdAt: at(-50) });
  const late = obs('app', 'running', { attempt: 1, createdAt: at(-10) });
  t.is(latestAttempt([late, early], 'app'), late);
  t.is(latestAttempt([early, late], 'app'), late);
});

// ---------------------------------------------------------------------------------------------
// containerStep
// ---------------------------------------------------------------------------------------------

const spec: Container = { name: 'app', image: 'nginx:1.25' };
type StepCase = [string, ObservedContainer | undefined, string, BackoffEntry | undefined, ReturnType<typeof containerStep>];
const pendingBackoff: BackoffEntry = { failures: 2, notBefore: NOW_MS + 7_000, delayMs: 10_000 };
const pastBackoff: BackoffEntry = { failures: 2, notBefore: NOW_MS - 1, delayMs: 10_000 };

const steps: StepCase[] = [
  ['never started -> start attempt 0', undefined, 'Always', undefined, { kind: 'start', attempt: 0 }],
  ['never started, pull back-off -> wait', undefined, 'Always', pendingBackoff, { kind: 'backoff', waitMs: 7_000, attempt: 0 }],
  ['running -> running', obs('app', 'running', { attempt: 3 }), 'Always', undefined, { kind: 'running' }],
  ['created -> running (nothing to do)', obs('app', 'created'), 'Never', undefined, { kind: 'running' }],
  ['Always, exit 0 -> restart', obs('app', 'exited', { attempt: 2, exitCode: 0 }), 'Always', undefined, { kind: 'start', attempt: 3 }],
  ['Always, exit 1 -> restart', obs('app', 'exited', { attempt: 0, exitCode: 1 }), 'Always', undefined, { kind: 'start', attempt: 1 }],
  ['Always, exit 1, in back-off -> wait', obs('app', 'exited', { attempt: 4, exitCode: 1 }), 'Always', pendingBackoff, { kind: 'backoff', waitMs: 7_000, attempt: 5 }],
  ['Always, exit 1, back-off over -> restart', obs('app', 'exited', { attempt: 4, exitCode: 1 }), 'Always', pastBackoff, { kind: 'start', attempt: 5 }],
  ['Always, back-off ending exactly now -> restart', obs('app', 'exited', { exitCode: 1 }), 'Always', { failures: 1, notBefore: NOW_MS }, { kind: 'start', attempt: 1 }],
  ['OnFailure, exit 0 -> done', obs('app', 'exited', { exitCode: 0 }), 'OnFailure', undefined, { kind: 'done' }],
  ['OnFailure, exit 0, with back-off -> still done', obs('app', 'exited', { exitCode: 0 }), 'OnFailure', pendingBackoff, { kind: 'done' }],
  ['OnFailure, exit 1 -> restart', obs('app', 'exited', { attempt: 1, exitCode: 1 }), 'OnFailure', undefined, { kind: 'start', attempt: 2 }],
  ['OnFailure, exit 137 in back-off -> wait', obs('app', 'exited', { attempt: 1, exitCode: 137, oomKilled: true }), 'OnFailure', pendingBackoff, { kind: 'backoff', waitMs: 7_000, attempt: 2 }],
  ['Never, exit 0 -> done', obs('app', 'exited', { exitCode: 0 }), 'Never', undefined, { kind: 'done' }],
  ['Never, exit 1 -> done', obs('app', 'exited', { exitCode: 1 }), 'Never', undefined, { kind: 'done' }],
];

for (const [name, latest, policy, backoff, expected] of steps) {
  test(`containerStep: ${name}`, (t) => {
    t.deepEqual(containerStep(spec, latest, policy, backoff, NOW_MS), expected);
  });
}

// ---------------------------------------------------------------------------------------------
// computePodStatus: phase
// ---------------------------------------------------------------------------------------------

type PhaseCase = [string, Pod, ObservedContainer[], BackoffState, NonNullable<Pod['status']>['phase']];
const phaseCases: PhaseCase[] = [
  ['nothing started yet', pod(['app']), [], {}, 'Pending'],
  ['only the sandbox', pod(['app']), [sandbox()], {}, 'Pending'],
  ['container created, not started', pod(['app']), [obs('app', 'created')], {}, 'Pending'],
  ['container running', pod(['app']), [sandbox(), obs('app', 'running')], {}, 'Running'],
  ['Always: exited 0, will restart', pod(['app'], 'Always'), [obs('app', 'exited', { exitCode: 0 })], {}, 'Running'],
  ['Always: exited 1 in CrashLoopBackOff', pod(['app'], 'Always'), [obs('app', 'exited', { exitCode: 1, attempt: 3 })], { app: pendingBackoff }, 'Running'],
  ['default restartPolicy is Always', pod(['app']), [obs('app', 'exited', { exitCode: 0 })], {}, 'Running'],
  ['OnFailure: exited 0', pod(['app'], 'OnFailure'), [obs('app', 'exited', { exitCode: 0 })], {}, 'Succeeded'],
  ['OnFailure: exited 1, restarting', pod(['app'], 'OnFailure'), [obs('app', 'exited', { exitCode: 1 })], {}, 'Running'],
  ['Never: exited 0', pod(['app'], 'Never'), [obs('app', 'exited', { exitCode: 0 })], {}, 'Succeeded'],
  ['Never: exited 1', pod(['app'], 'Never'), [obs('app', 'exited', { exitCode: 1 })], {}, 'Failed'],
  ['Never: OOMKilled', pod(['app'], 'Never'), [obs('app', 'exited', { exitCode: 137, oomKilled: true })], {}, 'Failed'],
  ['Never: two containers, both 0', pod(['a', 'b'], 'Never'), [obs('a', 'exited', { exitCode: 0 }), obs('b', 'exited', { exitCode: 0 })], {}, 'Succeeded'],
  ['Never: two containers, one failed', pod(['a', 'b'], 'Never'), [obs('a', 'exited', { exitCode: 0 }), obs('b', 'exited', { exitCode: 2 })], {}, 'Failed'],
  ['Never: one exited 1, one still running', pod(['a', 'b'], 'Never'), [obs('a', 'exited', { exitCode: 1 }), obs('b', 'running')], {}, 'Running'],
  ['OnFailure: one done, one running', pod(['a', 'b'], 'OnFailure'), [obs('a', 'exited', { exitCode: 0 }), obs('b', 'running')], {}, 'Running'],
  ['OnFailure: one done, one failed (restarting)', pod(['a', 'b'], 'OnFailure'), [obs('a', 'exited', { exitCode: 0 }), obs('b', 'exited', { exitCode: 1 })], {}, 'Running'],
  ['init container not yet run', pod(['app'], 'Always', ['init']), [sandbox()], {}, 'Pending'],
  ['init container running', pod(['app'], 'Always', ['init']), [obs('init', 'running', { role: 'init' })], {}, 'Pending'],
  ['init container failed, OnFailure: retried', pod(['app'], 'OnFailure', ['init']), [obs('init', 'exited', { role: 'init', exitCode: 1 })], {}, 'Pending'],
  ['init container failed, Always: retried', pod(['app'], 'Always', ['init']), [obs('init', 'exited', { role: 'init', exitCode: 1 })], {}, 'Pending'],
  ['init container failed, Never: Failed', pod(['app'], 'Never', ['init']), [obs('init', 'exited', { role: 'init', exitCode: 1 })], {}, 'Failed'],
  ['init done, app not started', pod(['app'], 'Always', ['init']), [obs('init', 'exited', { role: 'init', exitCode: 0 })], {}, 'Pending'],
  ['init done, app running', pod(['app'], 'Always', ['init']), [obs('init', 'exited', { role: 'init', exitCode: 0 }), obs('app', 'running')], {}, 'Running'],
  ['first init done, second running', pod(['app'], 'Always', ['i1', 'i2']), [obs('i1', 'exited', { role: 'init', exitCode: 0 }), obs('i2', 'running', { role: 'init' })], {}, 'Pending'],
  ['init done, Never, app exited 0', pod(['app'], 'Never', ['init']), [obs('init', 'exited', { role: 'init', exitCode: 0 }), obs('app', 'exited', { exitCode: 0 })], {}, 'Succeeded'],
];

for (const [name, p, observed, backoff, phase] of phaseCases) {
  test(`computePodStatus phase: ${name} -> ${phase}`, (t) => {
    t.is(status(p, observed, backoff).phase, phase);
  });
}

// Kubernetes' getPhase: a container waiting without ever having terminated (ContainerCreating,
// ErrImagePull, ImagePullBackOff) makes the pod Pending, even if another container is running.
test('computePodStatus phase: one container running, another stuck in ErrImagePull -> Pending', (t) => {
  // BUG: Wharf reports Running as soon as any container runs; Kubernetes' getPhase returns Pending
  // while `waiting > 0` (a container in Waiting with no lastTerminationState).
  const s = status(pod(['a', 'b']), [obs('a', 'running')], { b: { failures: 1, notBefore: NOW_MS + 5_000, message: 'pull access denied' } });
  t.is(s.phase, 'Pending');
});

test('computePodStatus phase: one container running, another not yet created -> Pending', (t) => {
  // BUG: same as above: Kubernetes counts the ContainerCreating container as waiting -> Pending.
  const s = status(pod(['a', 'b']), [obs('a', 'running')]);
  t.is(s.phase, 'Pending');
});

// ---------------------------------------------------------------------------------------------
// computePodStatus: container states
// ---------------------------------------------------------------------------------------------

test('container never started: waiting ContainerCreating, restartCount 0, not ready', (t) => {
  const s = status(pod(['app']), []);
  const cs = s.containerStatuses![0];
  t.deepEqual(cs.state, { waiting: { reason: 'ContainerCreating' } });
  t.is(cs.restartCount, 0);
  t.false(cs.ready);
  t.false(cs.started);
  t.is(cs.name, 'app');
  t.is(cs.image, 'nginx:1.25');
});

test('container created but not started: waiting ContainerCreating', (t) => {
  const s = status(pod(['app']), [obs('app', 'created', { id: 'x1' })]);
  t.deepEqual(s.containerStatuses![0].state, { waiting: { reason: 'ContainerCreating' } });
  t.false(s.containerStatuses![0].ready);
});

test('running container: running state, ready, started, containerID with runtime scheme', (t) => {
  const c = obs('app', 'running', { id: 'abc123', attempt: 2 });
  const s = status(pod(['app']), [c]);
  const cs = s.containerStatuses![0];
  t.deepEqual(cs.state, { running: { startedAt: c.startedAt } });
  t.true(cs.ready);
  t.true(cs.started);
  t.is(cs.restartCount, 2);
  t.is(cs.containerID, 'docker://abc123');
  t.is(cs.imageID, 'sha256:abc');
  t.deepEqual(cs.lastState, {});
});

test('the simulated runtime uses its own containerID scheme', (t) => {
  const s = status(pod(['app']), [obs('app', 'running', { id: 'sim1' })], {}, { runtime: 'simulated' });
  t.is(s.containerStatuses![0].containerID, 'simulated://sim1');
});

test('restartCount is the latest attempt, lastState the previous exit', (t) => {
  const prev = obs('app', 'exited', { id: 'old', attempt: 4, exitCode: 1, finishedAt: at(-30) });
  const cur = obs('app', 'running', { id: 'new', attempt: 5 });
  const s = status(pod(['app']), [prev, cur, obs('app', 'exited', { id: 'older', attempt: 3, exitCode: 2 })]);
  const cs = s.containerStatuses![0];
  t.is(cs.restartCount, 5);
  t.is(cs.lastState!.terminated.exitCode, 1);
  t.is(cs.lastState!.terminated.reason, 'Error');
  t.is(cs.lastState!.terminated.containerID, 'docker://old');
  t.is(cs.lastState!.terminated.finishedAt, at(-30));
});

test('lastState containerID uses the runtime scheme', (t) => {
  const prev = obs('app', 'exited', { id: 'old', attempt: 0, exitCode: 1 });
  const cur = obs('app', 'running', { id: 'new', attempt: 1 });
  const s = status(pod(['app']), [prev, cur], {}, { runtime: 'simulated' });
  t.is(s.containerStatuses![0].lastState!.terminated.containerID, 'simulated://old');
});

test('CrashLoopBackOff: waiting reason with message, lastState terminated', (t) => {
  const c = obs('app', 'exited', { id: 'dead', attempt: 3, exitCode: 1 });
  const s = status(pod(['app'], 'Always'), [c], { app: { failures: 3, notBefore: NOW_MS + 15_000, delayMs: 20_000 } });
  const cs = s.containerStatuses![0];
  t.deepEqual(cs.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=app pod=web_default(u1)' } });
  t.is(cs.lastState!.terminated.exitCode, 1);
  t.is(cs.lastState!.terminated.reason, 'Error');
  t.is(cs.lastState!.terminated.containerID, 'docker://dead');
  t.is(cs.restartCount, 3);
  t.false(cs.ready);
  t.false(cs.started);
});

test('CrashLoopBackOff message prints minutes and seconds', (t) => {
  const c = obs('app', 'exited', { attempt: 6, exitCode: 1 });
  const s = status(pod(['app']), [c], { app: { failures: 6, notBefore: NOW_MS + 1, delayMs: 160_000 } });
  t.is(s.containerStatuses![0].state.waiting.message, 'back-off 2m40s restarting failed container=app pod=web_default(u1)');
});

test('CrashLoopBackOff message at the 5 minute cap reads "back-off 5m0s", as Kubernetes (Go duration)', (t) => {
  // BUG: formatSeconds(300000) gives "5m"; the kubelet formats the back-off with Go's
  // time.Duration.String(): "back-off 5m0s restarting failed container=app pod=web_default(u1)".
  const c = obs('app', 'exited', { attempt: 9, exitCode: 1 });
  const s = status(pod(['app']), [c], { app: { failures: 9, notBefore: NOW_MS + 1, delayMs: 300_000 } });
  t.is(s.containerStatuses![0].state.waiting.message, 'back-off 5m0s restarting failed container=app pod=web_default(u1)');
});

test('exited and waiting to restart, back-off over: waiting ContainerCreating with lastState', (t) => {
  const c = obs('app', 'exited', { attempt: 1, exitCode: 0 });
  const s = status(pod(['app'], 'Always'), [c], { app: { failures: 1, notBefore: NOW_MS - 1, delayMs: 0 } });
  const cs = s.containerStatuses![0];
  t.deepEqual(cs.state, { waiting: { reason: 'ContainerCreating' } });
  t.is(cs.lastState!.terminated.reason, 'Completed');
});

test('OOMKilled: terminated reason OOMKilled (Never) and lastState OOMKilled (Always)', (t) => {
  const never = status(pod(['app'], 'Never'), [obs('app', 'exited', { exitCode: 137, oomKilled: true })]);
  t.is(never.containerStatuses![0].state.terminated.reason, 'OOMKilled');
  t.is(never.containerStatuses![0].state.terminated.exitCode, 137);
  const always = status(pod(['app'], 'Always'), [obs('app', 'exited', { exitCode: 137, oomKilled: true, attempt: 2 })], { app: { failures: 2, notBefore: NOW_MS + 5000, delayMs: 10_000 } });
  t.is(always.containerStatuses![0].state.waiting.reason, 'CrashLoopBackOff');
  t.is(always.containerStatuses![0].lastState!.terminated.reason, 'OOMKilled');
});

const terminatedReasons: [string, Partial<ObservedContainer>, string][] = [
  ['exit 0 -> Completed', { exitCode: 0 }, 'Completed'],
  ['exit 1 -> Error', { exitCode: 1 }, 'Error'],
  ['exit 143 -> Error', { exitCode: 143 }, 'Error'],
  ['OOM -> OOMKilled', { exitCode: 137, oomKilled: true }, 'OOMKilled'],
  ['start error -> StartError', { exitCode: 128, error: 'exec: "nope": executable file not found' }, 'StartError'],
];

for (const [name, extra, reason] of terminatedReasons) {
  test(`terminated state (Never): ${name}`, (t) => {
    const c = obs('app', 'exited', { id: 'tid', ...extra });
    const s = status(pod(['app'], 'Never'), [c]);
    const term = s.containerStatuses![0].state.terminated;
    t.is(term.reason, reason);
    t.is(term.exitCode, extra.exitCode);
    t.is(term.containerID, 'docker://tid');
    t.is(term.startedAt, c.startedAt);
    t.is(term.finishedAt, c.finishedAt);
    if (extra.error) t.is(term.message, extra.error);
    else t.false('message' in term);
  });
}

test('ErrImagePull on the first failed pull', (t) => {
  const s = status(pod(['app']), [], { app: { failures: 1, notBefore: NOW_MS + 10_000, message: 'pull access denied for nope' } });
  t.deepEqual(s.containerStatuses![0].state, { waiting: { reason: 'ErrImagePull', message: 'pull access denied for nope' } });
  t.is(s.phase, 'Pending');
});

test('ImagePullBackOff after repeated failed pulls while backing off', (t) => {
  const s = status(pod(['app']), [], { app: { failures: 2, notBefore: NOW_MS + 10_000, message: 'pull access denied for nope' } });
  t.deepEqual(s.containerStatuses![0].state, { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nginx:1.25": pull access denied for nope' } });
  t.is(s.phase, 'Pending');
});

test('ErrImagePull again when the back-off is over and the pull is retried', (t) => {
  const s = status(pod(['app']), [], { app: { failures: 3, notBefore: NOW_MS - 1, message: 'pull access denied' } });
  t.is(s.containerStatuses![0].state.waiting.reason, 'ErrImagePull');
});

test('ImagePullBackOff for a restart whose pull fails', (t) => {
  const c = obs('app', 'exited', { attempt: 1, exitCode: 0 });
  const s = status(pod(['app']), [c], { app: { failures: 1, notBefore: NOW_MS + 10_000, message: 'manifest unknown' } });
  t.deepEqual(s.containerStatuses![0].state.waiting, { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nginx:1.25": manifest unknown' });
});

// ---------------------------------------------------------------------------------------------
// computePodStatus: conditions, IPs, init containers
// ---------------------------------------------------------------------------------------------

test('running pod: every condition True, IPs set', (t) => {
  const s = status(pod(['a', 'b']), [sandbox(), obs('a', 'running'), obs('b', 'running')]);
  t.is(s.phase, 'Running');
  for (const type of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']) {
    const c = conditionOf(s, type);
    t.is(c.status, 'True', type);
    t.false('reason' in c, type);
    t.is(c.lastTransitionTime, NOW);
  }
  t.is(s.podIP, '10.0.0.7');
  t.deepEqual(s.podIPs, [{ ip: '10.0.0.7' }]);
  t.is(s.hostIP, '192.168.1.2');
  t.deepEqual(s.hostIPs, [{ ip: '192.168.1.2' }]);
  t.is(s.startTime, NOW);
  t.false('initContainerStatuses' in s);
  t.false('qosClass' in s);
});

test('not-ready containers are listed in Ready and ContainersReady', (t) => {
  const s = status(pod(['a', 'b', 'c']), [obs('a', 'running'), obs('b', 'exited', { exitCode: 1 })], { b: pendingBackoff });
  for (const type of ['Ready', 'ContainersReady']) {
    const c = conditionOf(s, type);
    t.is(c.status, 'False');
    t.is(c.reason, 'ContainersNotReady');
    t.is(c.message, 'containers with unready status: [b c]');
  }
});

test('no pod IP yet: PodReadyToStartContainers False, no podIP', (t) => {
  const s = status(pod(['app']), [], {}, { podIP: undefined });
  t.is(conditionOf(s, 'PodReadyToStartContainers').status, 'False');
  t.false('podIP' in s);
  t.false('podIPs' in s);
});

test('a finished pod reports Ready False with reason PodCompleted', (t) => {
  const s = status(pod(['app'], 'Never'), [obs('app', 'exited', { exitCode: 0 })]);
  t.is(s.phase, 'Succeeded');
  t.is(conditionOf(s, 'Ready').status, 'False');
  t.is(conditionOf(s, 'Ready').reason, 'PodCompleted');
  t.is(conditionOf(s, 'ContainersReady').reason, 'PodCompleted');
  const failed = status(pod(['app'], 'Never'), [obs('app', 'exited', { exitCode: 3 })]);
  t.is(conditionOf(failed, 'Ready').reason, 'PodCompleted');
});

test('lastTransitionTime is kept while a condition keeps its status, and PodScheduled is carried over', (t) => {
  const earlier = at(-3600);
  const prev: Condition[] = [
    { type: 'PodScheduled', status: 'True', lastTransitionTime: at(-7200), lastProbeTime: null },
    { type: 'Ready', status: 'True', lastTransitionTime: earlier, lastProbeTime: null },
    { type: 'Initialized', status: 'True', lastTransitionTime: earlier, lastProbeTime: null },
    { type: 'ContainersReady', status: 'False', lastTransitionTime: earlier, lastProbeTime: null },
  ];
  const p = pod(['app'], 'Always', [], { phase: 'Running', conditions: prev, startTime: at(-7000), qosClass: 'BestEffort' });
  const s = status(p, [obs('app', 'running')]);
  t.is(conditionOf(s, 'Ready').lastTransitionTime, earlier);
  t.is(conditionOf(s, 'Initialized').lastTransitionTime, earlier);
  t.is(conditionOf(s, 'ContainersReady').lastTransitionTime, NOW, 'False -> True is a transition');
  t.deepEqual(conditionOf(s, 'PodScheduled'), prev[0]);
  t.is(s.startTime, at(-7000));
  t.is(s.qosClass, 'BestEffort');
});

test('init containers: Initialized False until they exit 0', (t) => {
  const p = pod(['app'], 'Always', ['i1', 'i2']);
  const none = status(p, []);
  t.is(conditionOf(none, 'Initialized').status, 'False');
  t.is(conditionOf(none, 'Initialized').reason, 'ContainersNotInitialized');
  t.is(conditionOf(none, 'Initialized').message, 'containers with incomplete status: [i1 i2]');

  const firstDone = status(p, [obs('i1', 'exited', { role: 'init', exitCode: 0 }), obs('i2', 'running', { role: 'init' })]);
  t.is(conditionOf(firstDone, 'Initialized').status, 'False');
  t.is(conditionOf(firstDone, 'Initialized').message, 'containers with incomplete status: [i2]');

  const failed = status(p, [obs('i1', 'exited', { role: 'init', exitCode: 0 }), obs('i2', 'exited', { role: 'init', exitCode: 1 })]);
  t.is(conditionOf(failed, 'Initialized').status, 'False');

  const done = status(p, [obs('i1', 'exited', { role: 'init', exitCode: 0 }), obs('i2', 'exited', { role: 'init', exitCode: 0 }), obs('app', 'running')]);
  t.is(conditionOf(done, 'Initialized').status, 'True');
  t.is(conditionOf(done, 'Ready').status, 'True');
  t.is(done.phase, 'Running');
});

test('init container statuses are reported', (t) => {
  const p = pod(['app'], 'Always', ['i1', 'i2']);
  const s = status(p, [obs('i1', 'exited', { role: 'init', exitCode: 0, id: 'i1c' }), obs('i2', 'running', { role: 'init', id: 'i2c' })]);
  const init = (s as any).initContainerStatuses;
  t.is(init.length, 2);
  t.is(init[0].name, 'i1');
  t.is(init[0].state.terminated.reason, 'Completed');
  t.is(init[0].state.terminated.containerID, 'docker://i1c');
  t.truthy(init[1].state.running);
  t.is(conditionOf(s, 'Ready').status, 'False');
});

test('a failed init container (pod OnFailure) waits in CrashLoopBackOff', (t) => {
  const p = pod(['app'], 'OnFailure', ['init']);
  const s = status(p, [obs('init', 'exited', { role: 'init', exitCode: 1, attempt: 2 })], { init: { failures: 2, notBefore: NOW_MS + 5000, delayMs: 10_000 } });
  const init = (s as any).initContainerStatuses[0];
  t.is(init.state.waiting.reason, 'CrashLoopBackOff');
  t.is(init.lastState.terminated.exitCode, 1);
  t.is(init.restartCount, 2);
  t.is(s.phase, 'Pending');
});

test('a failed init container of a restartPolicy Never pod is reported terminated (Init:Error)', (t) => {
  // BUG: init container statuses are always computed with restartPolicy 'OnFailure', so with pod
  // restartPolicy Never a failed init container shows waiting/ContainerCreating (kubectl:
  // "Init:ContainerCreating") although it will never run again. Kubernetes shows the terminated
  // state (reason Error, kubectl "Init:Error") and the pod is Failed.
  const p = pod(['app'], 'Never', ['init']);
  const s = status(p, [obs('init', 'exited', { role: 'init', exitCode: 1 })]);
  t.is(s.phase, 'Failed');
  const init = (s as any).initContainerStatuses[0];
  t.is(init.state.terminated?.reason, 'Error');
});

test('app containers of a pod with init containers wait with reason PodInitializing', (t) => {
  // BUG: Kubernetes' kubelet uses the default waiting reason PodInitializing (not ContainerCreating)
  // for regular containers of a pod that has init containers.
  const p = pod(['app'], 'Always', ['init']);
  const s = status(p, [obs('init', 'running', { role: 'init' })]);
  t.is(s.containerStatuses![0].state.waiting?.reason, 'PodInitializing');
});

test('a container the engine would not start waits with RunContainerError and the engine\'s words; its failed instance is the last state', (t) => {
  const message = 'failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: unable to apply caps: operation not permitted: unknown';
  const failed = obs('app', 'exited', { exitCode: 128, error: message, startedAt: undefined });
  const s = status(pod(['app']), [sandbox(), failed], { app: { failures: 1, notBefore: NOW_MS + 10_000, delayMs: 10_000, reason: 'RunContainerError', message } });
  const st = s.containerStatuses![0];
  t.deepEqual(st.state, { waiting: { reason: 'RunContainerError', message } });
  t.is(st.lastState!.terminated.reason, 'StartError');
  t.is(st.lastState!.terminated.message, message);
  t.is(s.phase, 'Running', 'restartPolicy Always: a stopped container waiting to restart');
  const created = status(pod(['app']), [sandbox()], { app: { failures: 1, notBefore: NOW_MS + 10_000, delayMs: 10_000, reason: 'CreateContainerError', message: 'conflicting options' } });
  t.deepEqual(created.containerStatuses![0].state, { waiting: { reason: 'CreateContainerError', message: 'conflicting options' } });
  t.is(created.phase, 'Pending');
});
