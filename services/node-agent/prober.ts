// Runs the probes of the containers on this node, each on its own timer, and tells the agent
// when a verdict changes (readiness → pod status) or a liveness/startup probe gives up (→ the
// container is killed and restarted by its restart policy). State is per container instance, so a
// restarted container starts over, as in the kubelet.
import { connect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import type { Container, Pod } from '../../shared/types.ts';
import type { ContainerRuntime, ObservedContainer } from './runtime/types.ts';
import {
  initialState,
  mayRun,
  recordResult,
  resolvePort,
  timingOf,
  type ProbeKind,
  type ProbeState,
} from './probe-logic.ts';

export interface ProbeEvents {
  /** A verdict changed: the pod's status should be recomputed. */
  changed(podKey: string): void;
  /** A liveness or startup probe failed for good: restart the container. */
  failed(podKey: string, container: ObservedContainer, kind: ProbeKind, message: string): void;
  /** Every failed probe, for an "Unhealthy" event. */
  unhealthy(podKey: string, container: string, kind: ProbeKind, message: string): void;
}

interface Worker {
  timer: NodeJS.Timeout;
  state: ProbeState;
  running: boolean;
}

const KINDS: ProbeKind[] = ['startup', 'readiness', 'liveness'];
const PROBE_FIELD: Record<ProbeKind, 'startupProbe' | 'readinessProbe' | 'livenessProbe'> = {
  startup: 'startupProbe',
  readiness: 'readinessProbe',
  liveness: 'livenessProbe',
};

export class Prober {
  private readonly workers = new Map<string, Worker>();

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly events: ProbeEvents,
  ) {}

  private key(containerId: string, kind: ProbeKind): string {
    return `${containerId}/${kind}`;
  }

  verdict(containerId: string, kind: ProbeKind): boolean | undefined {
    return this.workers.get(this.key(containerId, kind))?.state.healthy;
  }

  /** Starts probes for the pod's running containers and stops those of containers that are gone. */
  sync(pod: Pod, podIP: string | undefined, observed: ObservedContainer[]): void {
    const podKey = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const live = new Set<string>();
    for (const spec of pod.spec.containers) {
      const running = observed
        .filter((c) => c.role === 'app' && c.name === spec.name && c.state === 'running')
        .sort((a, b) => b.attempt - a.attempt)[0];
      if (!running || !podIP) continue;
      for (const kind of KINDS) {
        const probe = spec[PROBE_FIELD[kind]];
        if (!probe) continue;
        const key = this.key(running.id, kind);
        live.add(key);
        if (!this.workers.has(key)) this.startWorker(key, podKey, pod, spec, running, podIP, kind, probe);
      }
    }
    const uidPrefix = new Set(observed.filter((c) => c.pod.uid === pod.metadata.uid).map((c) => c.id));
    for (const [key, w] of this.workers) {
      const id = key.slice(0, key.lastIndexOf('/'));
      if (uidPrefix.has(id) && !live.has(key)) this.stop(key, w);
    }
  }

  /** Stops every probe of the given containers (a pod deleted, a container gone). */
  forget(containerIds: Iterable<string>): void {
    const ids = new Set(containerIds);
    for (const [key, w] of this.workers) if (ids.has(key.slice(0, key.lastIndexOf('/')))) this.stop(key, w);
  }

  close(): void {
    for (const [key, w] of this.workers) this.stop(key, w);
  }

  private stop(key: string, w: Worker): void {
    clearTimeout(w.timer);
    this.workers.delete(key);
  }

  private startWorker(key: string, podKey: string, pod: Pod, spec: Container, container: ObservedContainer, podIP: string, kind: ProbeKind, probe: any): void {
    const timing = timingOf(probe);
    const worker: Worker = { state: initialState(kind), running: false, timer: setTimeout(() => undefined, 0) };
    this.workers.set(key, worker);
    const tick = async () => {
      if (!this.workers.has(key)) return;
      const hasStartup = !!spec.startupProbe;
      const startupDone = this.verdict(container.id, 'startup') === true;
      if (mayRun(kind, hasStartup, startupDone) && !worker.running) {
        worker.running = true;
        const result = await this.runProbe(probe, spec, container, podIP, timing.timeoutSeconds * 1000);
        worker.running = false;
        if (!this.workers.has(key)) return;
        const { state, changed } = recordResult(worker.state, result.ok, timing, result.message);
        worker.state = state;
        if (!result.ok) this.events.unhealthy(podKey, spec.name, kind, result.message);
        if (changed) {
          this.events.changed(podKey);
          if (state.healthy === false && kind !== 'readiness') {
            this.stop(key, worker);
            this.events.failed(podKey, container, kind, result.message);
            return;
          }
        }
        // A succeeded startup probe has done its job.
        if (kind === 'startup' && state.healthy) {
          clearTimeout(worker.timer);
          return;
        }
      }
      worker.timer = setTimeout(tick, timing.periodSeconds * 1000);
    };
    worker.timer = setTimeout(tick, timing.initialDelaySeconds * 1000);
    void pod;
  }

  private async runProbe(probe: any, spec: Container, container: ObservedContainer, podIP: string, timeoutMs: number): Promise<{ ok: boolean; message: string }> {
    try {
      // Simulated pods have made-up IPs: never send real traffic there. Network probes pass;
      // exec probes go to the simulated runtime, which answers them.
      if (this.runtime.kind === 'simulated' && !probe.exec) return { ok: true, message: '' };
      if (probe.exec) {
        const r = await this.runtime.exec(container.id, probe.exec.command ?? [], timeoutMs);
        if (r.timedOut) return { ok: false, message: `command timed out after ${timeoutMs / 1000}s` };
        return { ok: r.exitCode === 0, message: r.exitCode === 0 ? '' : r.output.trim() || `command exited with ${r.exitCode}` };
      }
      if (probe.tcpSocket) {
        const port = resolvePort(probe.tcpSocket.port, spec.ports);
        if (!port) return { ok: false, message: `unknown port ${probe.tcpSocket.port}` };
        await tcpConnect(probe.tcpSocket.host || podIP, port, timeoutMs);
        return { ok: true, message: '' };
      }
      if (probe.httpGet) {
        const g = probe.httpGet;
        const port = resolvePort(g.port, spec.ports);
        if (!port) return { ok: false, message: `unknown port ${g.port}` };
        const scheme = (g.scheme ?? 'HTTP').toLowerCase();
        const path = g.path ?? '/';
        const url = `${scheme}://${g.host || podIP}:${port}${path.startsWith('/') ? path : `/${path}`}`;
        const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32' };
        for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
        const status = scheme === 'https' ? await httpsStatus(url, headers, timeoutMs) : await httpStatus(url, headers, timeoutMs);
        const ok = status >= 200 && status < 400;
        return { ok, message: ok ? '' : `HTTP probe failed with statuscode: ${status}` };
      }
      return { ok: false, message: 'probe type not supported (grpc probes are not implemented)' };
    } catch (err) {
      const e = err as Error;
      const why = e.name === 'TimeoutError' ? 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)' : (e.cause as Error)?.message ?? e.message;
      return { ok: false, message: `Get failed: ${why}` };
    }
  }
}

async function httpStatus(url: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
}

/**
 * An HTTPS probe, as the kubelet makes it, does not verify the container's certificate: a pod
 * serving with a certificate of its own CA (an admission webhook's, say) is still probed. fetch
 * cannot be told so; node:https can.
 */
function httpsStatus(url: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { headers, rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })));
    req.on('error', reject);
    req.end();
  });
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`dial tcp ${host}:${port}: i/o timeout`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
