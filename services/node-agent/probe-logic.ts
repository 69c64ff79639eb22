// Pure rules of container probes, as the kubelet applies them: thresholds of consecutive results,
// the initial state of each kind of probe, and which probes may run while a startup probe has not
// yet succeeded.

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

export interface ProbeTiming {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

export interface ProbeState {
  /** The probe's verdict so far: readiness starts failed, liveness starts healthy, startup unknown. */
  healthy: boolean | undefined;
  successes: number;
  failures: number;
  lastMessage?: string;
}

export function timingOf(probe: any): ProbeTiming {
  return {
    initialDelaySeconds: probe?.initialDelaySeconds ?? 0,
    periodSeconds: Math.max(1, probe?.periodSeconds ?? 10),
    timeoutSeconds: Math.max(1, probe?.timeoutSeconds ?? 1),
    successThreshold: Math.max(1, probe?.successThreshold ?? 1),
    failureThreshold: Math.max(1, probe?.failureThreshold ?? 3),
  };
}

export function initialState(kind: ProbeKind): ProbeState {
  return { healthy: kind === 'liveness' ? true : kind === 'readiness' ? false : undefined, successes: 0, failures: 0 };
}

/** The state after one probe result; `changed` when the verdict flipped. */
export function recordResult(state: ProbeState, ok: boolean, timing: ProbeTiming, message?: string): { state: ProbeState; changed: boolean } {
  const next: ProbeState = ok
    ? { ...state, successes: state.successes + 1, failures: 0, lastMessage: undefined }
    : { ...state, successes: 0, failures: state.failures + 1, lastMessage: message };
  if (ok && next.successes >= timing.successThreshold) next.healthy = true;
  if (!ok && next.failures >= timing.failureThreshold) next.healthy = false;
  return { state: next, changed: next.healthy !== state.healthy };
}

/** Liveness and readiness probes wait until a startup probe (if any) has succeeded. */
export function mayRun(kind: ProbeKind, hasStartupProbe: boolean, startupSucceeded: boolean): boolean {
  return kind === 'startup' ? !startupSucceeded : !hasStartupProbe || startupSucceeded;
}

/** A container is ready when it runs, its startup probe (if any) passed, and its readiness probe (if any) passes. */
export function containerReady(running: boolean, spec: { readinessProbe?: unknown; startupProbe?: unknown; [field: string]: unknown }, readiness: boolean | undefined, started: boolean | undefined): boolean {
  if (!running) return false;
  if (spec.startupProbe && !started) return false;
  if (spec.readinessProbe) return readiness === true;
  return true;
}

/** The port a probe targets: a number, or the name of one of the container's ports. */
export function resolvePort(port: number | string | undefined, containerPorts: { name?: string; containerPort: number }[] | undefined): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return containerPorts?.find((p) => p.name === port)?.containerPort;
}
