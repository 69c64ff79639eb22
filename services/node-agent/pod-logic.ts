// Pure decisions of the node agent about one pod: what each container needs next (start,
// restart after a back-off, nothing), and the PodStatus that the observed containers amount to.
import type { Container, ContainerStatus, Pod, PodStatus, Condition } from '../../shared/types.ts';
import type { ObservedContainer } from './runtime/types.ts';
import { containerReady } from './probe-logic.ts';

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  resetMs: number;
}

/** Per container: consecutive quick failures and when the next start is allowed. */
export interface BackoffEntry {
  failures: number;
  notBefore: number;
  delayMs?: number;
  message?: string; // why the container could not start
  /**
   * Why the container is waiting, when it is not a crash loop: its configuration (CreateContainerConfigError),
   * or the runtime's refusal to create or start it (CreateContainerError, RunContainerError). Absent
   * with a message: an image pull failed (ErrImagePull / ImagePullBackOff).
   */
  reason?: 'CreateContainerConfigError' | 'CreateContainerError' | 'RunContainerError';
}

export type BackoffState = Record<string, BackoffEntry>;

/** Kubernetes' crash-loop delay: the first restart is immediate, then base doubling to max. */
export function backoffDelay(failures: number, policy: BackoffPolicy): number {
  if (failures <= 0) return 0;
  return Math.min(policy.baseMs * 2 ** (failures - 1), policy.maxMs);
}

export function latestAttempt(observed: ObservedContainer[], name: string): ObservedContainer | undefined {
  let best: ObservedContainer | undefined;
  for (const c of observed) {
    if (c.role === 'sandbox' || c.name !== name) continue;
    if (!best || c.attempt > best.attempt || (c.attempt === best.attempt && c.createdAt > best.createdAt)) best = c;
  }
  return best;
}

/** Whether the pod's network is held by a sandbox or, with none, by its only container. */
export type PodSandboxMode = 'always' | 'auto';

/**
 * Whether the pod runs without a sandbox, its only container holding the pod's network itself, so
 * that starting it costs the engine one container, not two. Decided once per pod: by what already
 * runs (a pod keeps the shape it started with), else by the spec. A sandbox stays where something
 * must share the pod's namespaces from the start (several containers, init containers, a shared
 * process namespace), where the pod IP must be known before the container starts (an env var of
 * status.podIP), and on the node's network, where there is nothing to hold.
 */
export function runsWithoutSandbox(pod: Pod, observed: ObservedContainer[], mode: PodSandboxMode): boolean {
  const mine = observed.filter((c) => c.pod.uid === pod.metadata.uid);
  if (mine.some((c) => c.role === 'sandbox')) return false;
  if (mine.some((c) => c.ownsNetwork)) return true;
  if (mode !== 'auto') return false;
  const spec = pod.spec;
  if (spec.containers.length !== 1 || spec.initContainers?.length || spec.ephemeralContainers?.length) return false;
  if (spec.hostNetwork || spec.shareProcessNamespace) return false;
  const wantsPodIP = (spec.containers[0].env ?? []).some((e) => /^status\.podIPs?$/.test(e.valueFrom?.fieldRef?.fieldPath ?? ''));
  return !wantsPodIP;
}

/** The running container that holds the pod's network: its sandbox, or its only container when it has none. */
export function networkHolder(observed: ObservedContainer[]): ObservedContainer | undefined {
  return observed.find((c) => c.state === 'running' && (c.role === 'sandbox' || c.ownsNetwork));
}

export type ContainerStep =
  | { kind: 'start'; attempt: number }
  | { kind: 'running' }
  | { kind: 'backoff'; waitMs: number; attempt: number }
  | { kind: 'done' }; // exited and will not run again

function shouldRestart(restartPolicy: string, exitCode: number | undefined): boolean {
  if (restartPolicy === 'Always') return true;
  if (restartPolicy === 'OnFailure') return exitCode !== 0;
  return false;
}

/** What one container needs next, given its newest observed instance and its back-off entry. */
export function containerStep(
  spec: Container,
  latest: ObservedContainer | undefined,
  restartPolicy: string,
  backoff: BackoffEntry | undefined,
  nowMs: number,
): ContainerStep {
  if (latest && (latest.state === 'running' || latest.state === 'created')) return { kind: 'running' };
  const nextAttempt = latest ? latest.attempt + 1 : 0;
  if (latest && !shouldRestart(restartPolicy, latest.exitCode)) return { kind: 'done' };
  if (backoff && backoff.notBefore > nowMs) return { kind: 'backoff', waitMs: backoff.notBefore - nowMs, attempt: nextAttempt };
  void spec;
  return { kind: 'start', attempt: nextAttempt };
}

/**
 * The back-off entry after a container exited: a run that lasted at least resetMs starts the
 * count again, a quick failure doubles the delay.
 */
export function afterExit(entry: BackoffEntry | undefined, ranForMs: number, finishedAt: number, policy: BackoffPolicy): BackoffEntry {
  const failures = ranForMs >= policy.resetMs ? 0 : entry?.failures ?? 0;
  const delayMs = backoffDelay(failures, policy);
  return { failures: failures + 1, notBefore: finishedAt + delayMs, delayMs };
}

function terminatedReason(c: ObservedContainer): string {
  if (c.oomKilled) return 'OOMKilled';
  if (c.error) return 'StartError';
  return c.exitCode === 0 ? 'Completed' : 'Error';
}

function stateOf(c: ObservedContainer): Record<string, any> {
  if (c.state === 'running') return { running: { startedAt: c.startedAt } };
  if (c.state === 'created') return { waiting: { reason: 'ContainerCreating' } };
  return {
    terminated: {
      exitCode: c.exitCode ?? 0,
      reason: terminatedReason(c),
      ...(c.error ? { message: c.error } : {}),
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      containerID: `docker://${c.id}`,
    },
  };
}

/** What the probes say of a container instance (undefined: no verdict yet). */
export type ProbeVerdicts = (containerId: string, kind: 'readiness' | 'startup') => boolean | undefined;

export interface StatusInput {
  probes?: ProbeVerdicts;
  pod: Pod;
  observed: ObservedContainer[];
  backoff: BackoffState;
  podIP?: string;
  hostIP: string;
  nowIso: string;
  runtime: string; // 'docker' | 'simulated': the containerID scheme
}

function condition(type: string, ok: boolean, nowIso: string, previous: Condition[] | undefined, reason?: string, message?: string): Condition {
  const status = ok ? 'True' : 'False';
  const prev = previous?.find((c) => c.type === type);
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : nowIso,
    ...(ok || !reason ? {} : { reason }),
    ...(ok || !message ? {} : { message }),
  };
}

function containerStatus(spec: Container, observed: ObservedContainer[], backoff: BackoffEntry | undefined, restartPolicy: string, nowMs: number, scheme: string, podRef: string, probes?: ProbeVerdicts): ContainerStatus {
  const latest = latestAttempt(observed, spec.name);
  const previous = observed
    .filter((c) => c.role !== 'sandbox' && c.name === spec.name && c !== latest && c.state === 'exited')
    .sort((a, b) => b.attempt - a.attempt)[0];
  const base = { name: spec.name, image: spec.image, imageID: latest?.imageId ?? '', started: false, ready: false };
  if (!latest) {
    const waiting = backoff?.reason
      ? { reason: backoff.reason, message: backoff.message }
      : backoff?.message
      ? { reason: backoff.notBefore > nowMs && backoff.failures > 1 ? 'ImagePullBackOff' : 'ErrImagePull', message: backoff.notBefore > nowMs && backoff.failures > 1 ? `Back-off pulling image "${spec.image}": ${backoff.message}` : backoff.message }
      : { reason: 'ContainerCreating' };
    return { ...base, state: { waiting }, restartCount: 0 };
  }
  const restartCount = latest.attempt;
  let state = stateOf(latest);
  let lastState: Record<string, any> = previous ? stateOf(previous) : {};
  const id = `${scheme}://${latest.id}`;
  if (latest.state === 'exited' && shouldRestart(restartPolicy, latest.exitCode)) {
    // Waiting to be restarted: what Kubernetes shows as CrashLoopBackOff, with the exit as lastState.
    lastState = stateOf(latest);
    const waitingFor = backoff && backoff.notBefore > nowMs;
    state = {
      waiting: backoff?.reason
        ? { reason: backoff.reason, message: backoff.message }
        : backoff?.message
        ? { reason: 'ImagePullBackOff', message: `Back-off pulling image "${spec.image}": ${backoff.message}` }
        : waitingFor
          ? { reason: 'CrashLoopBackOff', message: `back-off ${formatSeconds(backoff!.delayMs ?? 0)} restarting failed container=${spec.name} pod=${podRef}` }
          : { reason: 'ContainerCreating' },
    };
  }
  if (lastState.terminated) lastState.terminated.containerID = lastState.terminated.containerID?.replace(/^docker:/, `${scheme}:`);
  if (state.terminated) state.terminated.containerID = id;
  return {
    ...base,
    state,
    lastState,
    restartCount,
    containerID: id,
    started: latest.state === 'running' && (!spec.startupProbe || probes?.(latest.id, 'startup') === true),
    ready: containerReady(latest.state === 'running', spec, probes?.(latest.id, 'readiness'), probes?.(latest.id, 'startup')),
  };
}

/** A Go duration as the kubelet prints it: "10s", "1m20s", "5m0s". */
function formatSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

/**
 * The kubelet's getPhase over the container statuses: any container not yet started keeps the
 * pod Pending; one waiting to restart after an exit counts as stopped, not waiting.
 */
export function podPhase(statuses: ContainerStatus[], restartPolicy: string): PodStatus['phase'] {
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const st of statuses) {
    if (st.state.running) running++;
    else if (st.state.terminated) {
      stopped++;
      if (st.state.terminated.exitCode === 0) succeeded++;
    } else if (st.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    return restartPolicy === 'Never' ? 'Failed' : 'Running';
  }
  return 'Pending';
}

/** The PodStatus the observed containers amount to (phase, conditions, container statuses, IPs). */
export function computePodStatus(input: StatusInput): PodStatus {
  const { pod, observed, backoff, nowIso } = input;
  const nowMs = Date.parse(nowIso);
  const restartPolicy = pod.spec.restartPolicy ?? 'Always';
  const initSpecs = pod.spec.initContainers ?? [];
  const podRef = `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
  const initPolicy = restartPolicy === 'Never' ? 'Never' : 'OnFailure';
  const initStatuses = initSpecs.map((c) => containerStatus(c, observed, backoff[c.name], initPolicy, nowMs, input.runtime, podRef, input.probes));
  const initialized = initSpecs.every((c) => {
    const latest = latestAttempt(observed, c.name);
    return latest?.state === 'exited' && latest.exitCode === 0;
  });
  const statuses = pod.spec.containers.map((c) => containerStatus(c, observed, backoff[c.name], restartPolicy, nowMs, input.runtime, podRef, input.probes));
  if (!initialized) {
    // App containers wait for the init containers, as Kubernetes shows it.
    for (const st of statuses) if (st.state.waiting?.reason === 'ContainerCreating') st.state = { waiting: { reason: 'PodInitializing' } };
  }
  const latest = pod.spec.containers.map((c) => latestAttempt(observed, c.name));
  const allReady = statuses.length > 0 && statuses.every((s) => s.ready);
  const initFailedForGood = restartPolicy === 'Never' && initSpecs.some((c) => {
    const l = latestAttempt(observed, c.name);
    return l?.state === 'exited' && l.exitCode !== 0;
  });
  const phase: PodStatus['phase'] = initFailedForGood ? 'Failed' : initialized ? podPhase(statuses, restartPolicy) : 'Pending';
  const prev = pod.status?.conditions;
  const notReady = statuses.filter((s) => !s.ready).map((s) => s.name);
  const unreadyMessage = `containers with unready status: [${notReady.join(' ')}]`;
  const conditions: Condition[] = [
    condition('PodReadyToStartContainers', !!input.podIP, nowIso, prev),
    condition('Initialized', initialized, nowIso, prev, 'ContainersNotInitialized', `containers with incomplete status: [${initSpecs.filter((c) => latestAttempt(observed, c.name)?.exitCode !== 0).map((c) => c.name).join(' ')}]`),
    condition('Ready', allReady && phase === 'Running', nowIso, prev, phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotReady', unreadyMessage),
    condition('ContainersReady', allReady && phase === 'Running', nowIso, prev, phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotReady', unreadyMessage),
    (prev ?? []).find((c) => c.type === 'PodScheduled') ?? condition('PodScheduled', true, nowIso, prev),
  ];
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    startTime: pod.status?.startTime ?? nowIso,
    containerStatuses: statuses,
    qosClass: pod.status?.qosClass,
  };
  if (initSpecs.length) (status as any).initContainerStatuses = initStatuses;
  // Ephemeral containers run once (never restarted) and count neither towards the phase nor readiness.
  const ephemeral = pod.spec.ephemeralContainers ?? [];
  if (ephemeral.length) {
    (status as any).ephemeralContainerStatuses = ephemeral.map((c) => {
      const { started: _started, ...st } = containerStatus(c, observed, backoff[c.name], 'Never', nowMs, input.runtime, podRef);
      return { ...st, ready: false };
    });
  }
  if (input.podIP) {
    status.podIP = input.podIP;
    status.podIPs = [{ ip: input.podIP }];
  }
  if (!status.qosClass) delete status.qosClass;
  return status;
}
