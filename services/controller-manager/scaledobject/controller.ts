// The ScaledObject controller (KEDA's operator, served natively): level-triggered per ScaledObject,
// one poll per pollingInterval. A poll reads the scale target, asks every trigger for its metric
// and activity (redis list length, stream pending entries, cron window, pods' cpu), decides with
// plan.ts, writes the target's replicas as `kubectl scale` does (the scale subresource's write:
// spec.replicas only, field manager on the scale subresource), and writes status and events as
// KEDA does. Nothing lives only in this process: lastActiveTime and trigger health are in status,
// the behavior's history in Redis (shared/keys.ts scalingHistory), the trigger connections are a
// cache any process can rebuild. So any controller manager may take any poll.
import type { Redis } from 'ioredis';
import type { KubeObject, Pod } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import type { Keys } from '../../../shared/keys.ts';
import type { Logger } from '../../../shared/log.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { isNotFound } from '../../../shared/errors.ts';
import { findByKind, qualifiedName, type ResourceInfo } from '../../../shared/api/resources.ts';
import { selectorMatches } from '../../../shared/api/selectors.ts';
import { cpuMillis } from '../../../shared/api/quantity.ts';
import { readPodUsage } from '../../../shared/resource-metrics.ts';
import { cronWindow, parseTrigger, triggersAndAuthenticationsTypes, type RedisConnection, type ScaleTrigger, type TriggerConfig } from '../../../shared/keda/triggers.ts';
import { deepEqual } from '../../../shared/util.ts';
import { boundsOf, decide, EMPTY_HISTORY, nextPollMs, replicasForCpu, replicasForExternal, type Condition, type ScalingHistory, type TriggerResult } from './plan.ts';
import { TriggerConnections, type ResolvedConnection } from './scalers.ts';

export const PAUSED_ANNOTATION = 'autoscaling.keda.sh/paused';
export const PAUSED_REPLICAS_ANNOTATION = 'autoscaling.keda.sh/paused-replicas';
export const PAUSED_SCALE_IN_ANNOTATION = 'autoscaling.keda.sh/paused-scale-in';
export const PAUSED_SCALE_OUT_ANNOTATION = 'autoscaling.keda.sh/paused-scale-out';
/** The field manager of the controller's writes to the target's /scale, as KEDA's operator. */
const FIELD_MANAGER = 'keda-operator';

type ScaledObject = KubeObject & { spec: any; status?: any };

/** What a poll remembers in Redis: the behavior's history and when and for what spec it last polled. */
interface PollRecord extends ScalingHistory {
  polledAt?: number;
  /** The generation and annotations the last poll saw: a change of either polls again at once. */
  seen?: string;
}

export interface ScaledObjectControllerOptions {
  redis: Redis;
  keys: Keys;
  log: Logger;
  /** Bound of each connect and command to a trigger's Redis. */
  scalerTimeoutMs: number;
  /** How old a pod's cpu sample may be and still count. */
  metricsMaxAgeMs: number;
  /** A trigger connection unused this long is closed. */
  connectionIdleMs?: number;
}

const boolAnnotation = (so: KubeObject, name: string): boolean => {
  const v = so.metadata.annotations?.[name];
  if (v === undefined) return false;
  return !['false', 'False', 'FALSE', '0', 'f', 'F'].includes(v);
};

export class ScaledObjectController {
  readonly connections: TriggerConnections;

  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly opts: ScaledObjectControllerOptions,
  ) {
    this.connections = new TriggerConnections({ timeoutMs: opts.scalerTimeoutMs, idleMs: opts.connectionIdleMs ?? 300_000 });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const so = await this.store.get<ScaledObject>('scaledobjects', namespace, name);
    if (!so || so.metadata.deletionTimestamp) {
      this.connections.close(key);
      return;
    }
    const now = Date.now();
    const bounds = boundsOf(so.spec);
    const historyKey = this.opts.keys.scalingHistory(so.metadata.uid!);
    const record = await this.readRecord(historyKey);
    const seen = JSON.stringify([so.metadata.generation, so.metadata.annotations ?? {}]);
    // Our own status writes come back as changes: poll no more often than the interval unless the spec changed.
    if (record.polledAt !== undefined && record.seen === seen && now - record.polledAt < bounds.pollingIntervalMs - 20) {
      return { requeueAfterMs: record.polledAt + bounds.pollingIntervalMs - now };
    }
    const triggers: ScaleTrigger[] = so.spec.triggers ?? [];
    this.connections.close(key, triggers.length);

    const statusBase = {
      ...triggersAndAuthenticationsTypes(triggers),
    };
    const target = await this.resolveTarget(so);
    if ('error' in target) {
      await this.events.warning(so, 'ScaledObjectCheckFailed', target.event);
      await this.writeStatus(so, statusBase, [
        { type: 'Ready', status: 'False', reason: 'ScaledObjectCheckFailed', message: `ScaledObject doesn't have correct scaleTargetRef specification: ${target.error}` },
        { type: 'Active', status: 'Unknown', reason: 'UnknownState', message: 'ScaledObject check failed' },
      ]);
      await this.writeRecord(historyKey, { ...record, polledAt: now, seen }, bounds.pollingIntervalMs);
      return { requeueAfterMs: bounds.pollingIntervalMs };
    }
    const { resource, object: targetObj } = target;
    const gvk = `${resource.group}/${resource.version}.${resource.kind}`;
    const current: number = targetObj.spec?.replicas ?? 1;
    const targetName = `${namespace}/${targetObj.metadata.name}`;
    const targetStatus: Record<string, unknown> = {
      ...statusBase,
      scaleTargetKind: gvk,
      scaleTargetGVKR: { group: resource.group, version: resource.version, kind: resource.kind, resource: resource.plural },
      ...(so.status?.originalReplicaCount === undefined ? { originalReplicaCount: current } : {}),
    };

    // Paused: replicas held where the annotation says, or left alone (KEDA's handlePause).
    const pausedReplicas = so.metadata.annotations?.[PAUSED_REPLICAS_ANNOTATION];
    if (pausedReplicas !== undefined || boolAnnotation(so, PAUSED_ANNOTATION)) {
      const n = pausedReplicas !== undefined ? Number(pausedReplicas) : undefined;
      if (n !== undefined && Number.isInteger(n) && n >= 0 && n !== current) await this.scale(so, resource, targetObj, n);
      const wasPaused = (so.status?.conditions ?? []).some((c: Condition) => c.type === 'Paused' && c.status === 'True');
      if (!wasPaused) await this.events.normal(so, 'ScaledObjectPaused', 'ScaledObject is paused');
      await this.writeStatus(so, { ...targetStatus, ...(n !== undefined ? { pausedReplicaCount: n } : {}) }, [
        { type: 'Paused', status: 'True', reason: 'ScaledObjectPaused', message: 'ScaledObject is paused' },
      ]);
      await this.writeRecord(historyKey, { ...record, polledAt: now, seen }, bounds.pollingIntervalMs);
      return { requeueAfterMs: bounds.pollingIntervalMs };
    }

    // Every trigger at once, each bounded by the scaler timeout.
    const wakeups: (number | undefined)[] = [];
    const results: TriggerResult[] = await Promise.all(triggers.map(async (t, i): Promise<TriggerResult> => {
      let auth: Record<string, string> | undefined;
      if (t.authenticationRef) {
        try {
          auth = await this.authParams(t.authenticationRef, so, targetObj);
        } catch (err) {
          return { metricName: `s${i}-${t.type}`, type: t.type, ok: false, error: (err as Error).message };
        }
      }
      const p = parseTrigger(t, i, auth);
      if (!p.ok) return { metricName: `s${i}-${t.type}`, type: t.type, ok: false, error: `error parsing ${t.type} metadata: ${p.problems.map((x) => x.message).join('; ')}` };
      try {
        return await this.evaluate(key, i, p.config, so, targetObj, current, now, wakeups);
      } catch (err) {
        return { metricName: p.config.metricName, type: t.type, ok: false, error: (err as Error).message };
      }
    }));
    for (const r of results) if (!r.ok) await this.events.warning(so, 'KEDAScalerFailed', r.error);

    // Trigger health (KEDA keeps it when a fallback is configured): consecutive failures per metric.
    const health: Record<string, { numberOfFailures: number; status: 'Happy' | 'Failing' }> = {};
    const failures: Record<string, number> = {};
    if (so.spec.fallback) {
      for (const r of results) {
        const before = so.status?.health?.[r.metricName]?.numberOfFailures ?? 0;
        health[r.metricName] = r.ok ? { numberOfFailures: 0, status: 'Happy' } : { numberOfFailures: before + 1, status: 'Failing' };
        failures[r.metricName] = health[r.metricName].numberOfFailures;
      }
    }

    const lastActive = so.status?.lastActiveTime ? Date.parse(so.status.lastActiveTime) : undefined;
    const decision = decide({
      bounds,
      behavior: so.spec.advanced?.horizontalPodAutoscalerConfig?.behavior,
      fallback: so.spec.fallback,
      current,
      results,
      failures,
      lastActiveTime: lastActive,
      createdAt: Date.parse(so.metadata.creationTimestamp ?? '') || now,
      history: record,
      now,
      pauseScaleIn: boolAnnotation(so, PAUSED_SCALE_IN_ANNOTATION),
      pauseScaleOut: boolAnnotation(so, PAUSED_SCALE_OUT_ANNOTATION),
    });

    let history = decision.history;
    if (decision.scaleTo !== undefined) {
      const to = decision.scaleTo;
      try {
        await this.scale(so, resource, targetObj, to);
        if (decision.cause === 'activate') {
          await this.events.normal(so, 'KEDAScaleTargetActivated', `Scaled ${gvk} ${targetName} from ${current} to ${to}, triggered by ${decision.activeTriggers.join(';')}`);
        } else if (decision.cause === 'deactivate') {
          await this.events.normal(so, 'KEDAScaleTargetDeactivated', `Deactivated ${gvk} ${targetName} from ${current} to ${to}`);
        } else {
          const reason = to > current ? `${results.filter((r) => r.ok && r.replicas !== undefined && r.replicas > current).map((r) => `${r.type === 'cpu' ? 'cpu resource utilization (percentage of request)' : `external metric ${r.metricName}`}`)[0] ?? 'fallback'} above target` : 'All metrics below target';
          await this.events.normal(so, 'SuccessfulRescale', `New size: ${to}; reason: ${reason}`);
        }
      } catch (err) {
        history = record;
        const verb = decision.cause === 'deactivate' ? 'KEDAScaleTargetDeactivationFailed' : 'KEDAScaleTargetActivationFailed';
        const what = decision.cause === 'deactivate' ? 'Failed to deactivate' : 'Failed to scale';
        await this.events.warning(so, verb, `${what} ${gvk} ${targetName} from ${current} to ${to}: ${(err as Error).message}`);
      }
    }

    const external = results.filter((r) => r.type !== 'cpu').map((r) => r.metricName);
    const resourceNames = results.filter((r) => r.type === 'cpu').map((r) => r.metricName);
    const wasReady = (so.status?.conditions ?? []).find((c: Condition) => c.type === 'Ready')?.status === 'True';
    const ready = decision.conditions.find((c) => c.type === 'Ready')!;
    if (!wasReady && ready.status === 'True') await this.events.normal(so, 'ScaledObjectReady', 'ScaledObject is ready for scaling');
    if (decision.fallbackActive && !(so.status?.conditions ?? []).some((c: Condition) => c.type === 'Fallback' && c.status === 'True')) {
      await this.events.normal(so, 'ScaledObjectFallbackActivated', 'ScaledObject fallback is active');
    }
    const wasPaused = (so.status?.conditions ?? []).some((c: Condition) => c.type === 'Paused' && c.status === 'True');
    const conditions: Condition[] = [...decision.conditions];
    if (wasPaused) {
      conditions.push({ type: 'Paused', status: 'False', reason: 'ScaledObjectUnpaused', message: 'pause annotation removed for ScaledObject' });
      await this.events.normal(so, 'ScaledObjectUnpaused', 'pause annotation removed for ScaledObject');
    }
    await this.writeStatus(so, {
      ...targetStatus,
      externalMetricNames: external.length ? external : undefined,
      resourceMetricNames: resourceNames.length ? resourceNames : undefined,
      triggersActivity: external.length ? Object.fromEntries(external.map((m) => [m, { isActive: decision.activeTriggers.includes(m) }])) : undefined,
      health: so.spec.fallback ? health : undefined,
      pausedReplicaCount: undefined,
      ...(decision.markActive ? { lastActiveTime: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
    }, conditions);

    const last = decision.markActive ? now : lastActive;
    if (last !== undefined) wakeups.push(last + bounds.cooldownMs + 1000);
    await this.writeRecord(historyKey, { ...history, polledAt: now, seen }, bounds.pollingIntervalMs);
    return { requeueAfterMs: nextPollMs(bounds, now, wakeups) };
  }

  /**
   * Closes trigger connections of ScaledObjects that no longer exist (another controller manager
   * may have taken the deletion) and those no poll in this process used lately (another one polls
   * them now). `existing`: the keys of every ScaledObject.
   */
  sweep(existing: string[]): void {
    this.connections.retain(new Set(existing));
    this.connections.sweep();
  }

  close(): void {
    this.connections.closeAll();
  }

  private async resolveTarget(so: ScaledObject): Promise<{ resource: ResourceInfo; object: KubeObject } | { error: string; event: string }> {
    const ref = so.spec.scaleTargetRef ?? {};
    const apiVersion: string = ref.apiVersion || 'apps/v1';
    const kind: string = ref.kind || 'Deployment';
    const resource = findByKind(kind, apiVersion);
    if (!resource) {
      const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
      return { error: `no matches for kind "${kind}" in group "${group}" and version "${version}"`, event: `Failed to parse Group, Version, Kind, Resource: no matches for kind "${kind}" in version "${apiVersion}"` };
    }
    const object = await this.store.get(resource, so.metadata.namespace, ref.name);
    if (!object) return { error: `${qualifiedName(resource)} "${ref.name}" not found`, event: "Target resource doesn't exist" };
    if (!resource.subresources.includes('scale')) return { error: `the server could not find the requested resource (get ${qualifiedName(resource)} ${ref.name})`, event: "Target resource doesn't expose /scale subresource" };
    return { resource, object };
  }

  /** The scale subresource's write: spec.replicas of the target, nothing else. */
  private async scale(so: ScaledObject, resource: ResourceInfo, target: KubeObject, replicas: number): Promise<void> {
    await this.store.guaranteedUpdate(resource, so.metadata.namespace, target.metadata.name!, (obj) => {
      obj.spec = { ...obj.spec, replicas };
      return obj;
    }, { fieldManager: { manager: FIELD_MANAGER, subresource: 'scale' } });
    this.opts.log.info({ scaledObject: `${so.metadata.namespace}/${so.metadata.name}`, target: target.metadata.name, from: target.spec?.replicas, to: replicas }, 'scaled target');
  }

  private async evaluate(owner: string, index: number, config: TriggerConfig, so: ScaledObject, target: KubeObject, current: number, now: number, wakeups: (number | undefined)[]): Promise<TriggerResult> {
    switch (config.type) {
      case 'redis': {
        const length = await this.connections.listLength(owner, index, config, await this.resolveConnection(config.connection, so, target));
        return { metricName: config.metricName, type: 'redis', ok: true, active: length > config.activationListLength, replicas: replicasForExternal(length, config.listLength, config.metricType, current) };
      }
      case 'redis-streams': {
        const count = await this.connections.streamCount(owner, index, config, await this.resolveConnection(config.connection, so, target));
        return { metricName: config.metricName, type: 'redis-streams', ok: true, active: count > config.activationLagCount, replicas: replicasForExternal(count, config.target, config.metricType, current) };
      }
      case 'cron': {
        const w = cronWindow(config.start, config.end, config.timezone, now);
        wakeups.push(w.nextChangeMs + 50);
        const value = w.active ? config.desiredReplicas : 0;
        return { metricName: config.metricName, type: 'cron', ok: true, active: w.active, replicas: replicasForExternal(value, 1, config.metricType, current) };
      }
      case 'cpu': {
        const selector = target.spec?.selector;
        const pods = (await this.store.list<Pod>('pods', so.metadata.namespace)).items.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && selectorMatches(selector, p.metadata.labels ?? {}));
        const samples = new Map((await readPodUsage(this.opts.redis, this.opts.keys, so.metadata.namespace, this.opts.metricsMaxAgeMs, now)).map((s) => [s.name, s]));
        const measured: { usageCores: number; requestCores?: number }[] = [];
        for (const pod of pods) {
          const sample = samples.get(pod.metadata.name!);
          if (!sample || sample.uid !== pod.metadata.uid) continue;
          const containers = (pod.spec.containers ?? []).filter((c: any) => !config.containerName || c.name === config.containerName);
          const usage = sample.containers.filter((c) => containers.some((x: any) => x.name === c.name)).reduce((s, c) => s + c.cpuNanoCores / 1e9, 0);
          const requests: (string | undefined)[] = containers.map((c: any) => c.resources?.requests?.cpu);
          const requestCores = requests.every((r) => r !== undefined) ? requests.reduce((s: number, r) => s + cpuMillis(r!) / 1000, 0) : undefined;
          measured.push({ usageCores: usage, requestCores });
        }
        const out = replicasForCpu(measured, config.metricType, config.value, current);
        if ('error' in out) return { metricName: 'cpu', type: 'cpu', ok: false, error: out.error };
        return { metricName: 'cpu', type: 'cpu', ok: true, active: true, replicas: out.replicas };
      }
    }
  }

  /**
   * The parameters a TriggerAuthentication gives (KEDA's resolveAuthRef): from Secrets and
   * ConfigMaps of the namespace, and from the scale target's container environment.
   */
  private async authParams(ref: { name: string; kind?: string }, so: ScaledObject, target: KubeObject): Promise<Record<string, string>> {
    const kind = ref.kind || 'TriggerAuthentication';
    if (kind !== 'TriggerAuthentication') throw new Error(`error resolving auth params: ${kind} is not supported by Wharf, only TriggerAuthentication`);
    const ta = await this.store.get('triggerauthentications', so.metadata.namespace, ref.name);
    if (!ta) throw new Error(`error resolving auth params: triggerauthentications.keda.sh "${ref.name}" not found`);
    const out: Record<string, string> = {};
    for (const e of ta.spec?.secretTargetRef ?? []) {
      const secret = await this.store.get('secrets', so.metadata.namespace, e.name);
      const data = secret?.data?.[e.key];
      if (data === undefined) throw new Error(`error resolving auth params: secret ${e.name} key ${e.key} not found`);
      out[e.parameter] = Buffer.from(data, 'base64').toString('utf8');
    }
    for (const e of ta.spec?.configMapTargetRef ?? []) {
      const cm = await this.store.get('configmaps', so.metadata.namespace, e.name);
      const data = cm?.data?.[e.key];
      if (data === undefined) throw new Error(`error resolving auth params: configmap ${e.name} key ${e.key} not found`);
      out[e.parameter] = data;
    }
    for (const e of ta.spec?.env ?? []) {
      out[e.parameter] = (await this.containerEnv(so, target, e.name, e.containerName)) ?? '';
    }
    const unsupported = ['podIdentity', 'hashiCorpVault', 'azureKeyVault', 'gcpSecretManager', 'awsSecretManager', 'boundServiceAccountToken', 'oauth2', 'filePath'].filter((f) => ta.spec?.[f] !== undefined && !(f === 'podIdentity' && ta.spec.podIdentity?.provider === 'none'));
    if (unsupported.length) throw new Error(`error resolving auth params: ${unsupported.join(', ')} of TriggerAuthentication ${ref.name} not supported by Wharf`);
    return out;
  }

  /** One environment variable of the scale target's container (envSourceContainerName, or the first). */
  private async containerEnv(so: ScaledObject, target: KubeObject, varName: string, containerName?: string): Promise<string | undefined> {
    const conn: RedisConnection = { address: '', databaseIndex: 0, enableTLS: false, passwordFromEnv: varName };
    const resolved = await this.resolveConnection(conn, containerName ? { ...so, spec: { ...so.spec, scaleTargetRef: { ...so.spec.scaleTargetRef, envSourceContainerName: containerName } } } : so, target);
    return resolved.resolvedPassword;
  }

  /** passwordFromEnv / usernameFromEnv: the target's container environment (a value or a Secret's key), as KEDA's resolver reads it. */
  private async resolveConnection(conn: RedisConnection, so: ScaledObject, target: KubeObject): Promise<ResolvedConnection> {
    if (!conn.passwordFromEnv && !conn.usernameFromEnv) return conn;
    const containers: any[] = target.spec?.template?.spec?.containers ?? [];
    const wanted = so.spec.scaleTargetRef?.envSourceContainerName;
    const container = wanted ? containers.find((c) => c.name === wanted) : containers[0];
    if (!container) throw new Error(`error resolving secrets for ScaleTarget: no container ${wanted ? `named ${wanted} ` : ''}in the scale target`);
    const read = async (varName: string | undefined): Promise<string | undefined> => {
      if (!varName) return undefined;
      const env = (container.env ?? []).find((e: any) => e.name === varName);
      if (!env) throw new Error(`error resolving secrets for ScaleTarget: environment variable ${varName} not found in container ${container.name}`);
      if (env.value !== undefined) return env.value;
      const ref = env.valueFrom?.secretKeyRef;
      if (ref) {
        const secret = await this.store.get('secrets', so.metadata.namespace, ref.name);
        const data = secret?.data?.[ref.key];
        if (data === undefined) throw new Error(`error resolving secrets for ScaleTarget: secret ${ref.name} key ${ref.key} not found`);
        return Buffer.from(data, 'base64').toString('utf8');
      }
      const cmRef = env.valueFrom?.configMapKeyRef;
      if (cmRef) {
        const cm = await this.store.get('configmaps', so.metadata.namespace, cmRef.name);
        const data = cm?.data?.[cmRef.key];
        if (data === undefined) throw new Error(`error resolving secrets for ScaleTarget: configmap ${cmRef.name} key ${cmRef.key} not found`);
        return data;
      }
      throw new Error(`error resolving secrets for ScaleTarget: environment variable ${varName} has no value Wharf can read`);
    };
    return { ...conn, resolvedPassword: await read(conn.passwordFromEnv), resolvedUsername: await read(conn.usernameFromEnv) };
  }

  /**
   * Merges fields into status (undefined removes one) and sets conditions in KEDA's order
   * (Ready, Active, Fallback, Paused), keeping the ones not given. Written only when it changed.
   */
  private async writeStatus(so: ScaledObject, fields: Record<string, unknown>, conditions: Condition[]): Promise<void> {
    await this.store.guaranteedUpdate<ScaledObject>('scaledobjects', so.metadata.namespace, so.metadata.name!, (cur) => {
      if (cur.metadata.uid !== so.metadata.uid) return null;
      const status: Record<string, any> = { ...(cur.status ?? {}) };
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) delete status[k];
        else status[k] = v;
      }
      const byType = new Map<string, Condition>();
      for (const c of initialConditions()) byType.set(c.type, c);
      for (const c of (status.conditions ?? []) as Condition[]) byType.set(c.type, c);
      for (const c of conditions) byType.set(c.type, c);
      const ordered = ['Ready', 'Active', 'Fallback', 'Paused'].map((t) => byType.get(t)!).concat([...byType.values()].filter((c) => !['Ready', 'Active', 'Fallback', 'Paused'].includes(c.type)));
      // reason and message are omitempty in KEDA's Condition.
      status.conditions = ordered.map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== '')));
      if (deepEqual(status, cur.status ?? {})) return null;
      cur.status = status;
      return cur;
    }, { subresource: 'status' }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }

  private async readRecord(key: string): Promise<PollRecord> {
    const raw = await this.opts.redis.get(key);
    if (!raw) return { ...EMPTY_HISTORY };
    try {
      const r = JSON.parse(raw) as PollRecord;
      return { ...EMPTY_HISTORY, ...r };
    } catch {
      return { ...EMPTY_HISTORY };
    }
  }

  private async writeRecord(key: string, record: PollRecord, pollingIntervalMs: number): Promise<void> {
    // Long enough to outlive the longest behavior window (1800 s policies, 3600 s stabilization) and a few polls.
    const ttlMs = Math.max(3_600_000, pollingIntervalMs * 3) + 60_000;
    await this.opts.redis.set(key, JSON.stringify(record), 'PX', ttlMs);
  }
}

/** KEDA's GetInitializedConditions. */
function initialConditions(): Condition[] {
  return [
    { type: 'Ready', status: 'Unknown', reason: '', message: '' },
    { type: 'Active', status: 'Unknown', reason: '', message: '' },
    { type: 'Fallback', status: 'Unknown', reason: '', message: '' },
    { type: 'Paused', status: 'False', reason: '', message: '' },
  ];
}
