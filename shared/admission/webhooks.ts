// Admission webhooks (Kubernetes' apiserver/pkg/admission/plugin/webhook: mutating/dispatcher.go,
// validating/dispatcher.go, predicates/rules): in the store's write path, so every writer is
// admitted alike. Mutating webhooks run before the kind's own admission, in the order of their
// configurations' names, each applying its JSONPatch (reinvoked once when IfNeeded and a later
// webhook changed the object); validating webhooks run after, and any denial refuses the write.
// AdmissionReview v1 is POSTed over HTTPS to a URL or a Service (to a ready endpoint of it, a pod's
// IP and port, with the name <service>.<namespace>.svc checked against the certificate). A webhook
// that cannot be reached or answers wrongly fails the write under failurePolicy Fail, in the API
// server's words, and is skipped under Ignore.
import { request } from 'node:https';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { KubeObject } from '../types.ts';
import type { ResourceInfo } from '../registry/strategy.ts';
import type { UserInfo } from '../auth/user.ts';
import { ApiError, InternalError } from '../errors.ts';
import { jsonPatch } from '../api/patch.ts';
import { selectorMatches } from '../api/selectors.ts';
import { deepEqual } from '../util.ts';
import { matchConditionsHold } from './cel-admission.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

/** One write as the webhooks see it. */
export interface AdmissionAttributes {
  resource: ResourceInfo;
  subresource?: string;
  operation: Operation;
  object?: KubeObject;
  oldObject?: KubeObject;
  namespace?: string;
  name: string;
  dryRun: boolean;
  user?: UserInfo;
}

/** What the dispatcher reads of the cluster: a namespace's labels and a Service's backends. */
export interface WebhookCluster {
  namespaceLabels(namespace: string): Promise<Record<string, string> | undefined>;
  /**
   * host:port of a ready backend of a Service's port (Kubernetes' endpoint service resolver, as
   * kube-apiserver runs it with aggregator routing); throws, in Kubernetes' words, when the Service
   * or its port is missing or no endpoint is ready.
   */
  serviceBackend(namespace: string, name: string, port: number): Promise<{ host: string; port: number }>;
}

/** A Service webhook that has nowhere to go: the resolver's message, as the API server reports it. */
export class ServiceUnavailableError extends Error {}

/**
 * The ready endpoint a call to port `port` of a Service goes to (Kubernetes' proxy.ResolveEndpoint
 * over Endpoints): the Service port's name picks the Endpoints port, whose number the endpoints
 * controller resolved from the pod's targetPort; among the subsets and addresses that have it, one
 * at random, so a webhook's replicas share the calls. `pick(n)` chooses an index below n.
 */
export function resolveServiceEndpoint(name: string, service: KubeObject | null | undefined, endpoints: KubeObject | null | undefined, port: number, pick: (n: number) => number = (n) => Math.floor(Math.random() * n)): { host: string; port: number } {
  if (!service) throw new ServiceUnavailableError(`service "${name}" not found`);
  if (service.spec?.type === 'ExternalName') throw new ServiceUnavailableError(`unsupported service type "ExternalName"`);
  const servicePort = ((service.spec?.ports ?? []) as any[]).find((p) => p.port === port);
  if (!servicePort) throw new ServiceUnavailableError(`no service port ${port} found for service "${name}"`);
  if (!endpoints) throw new ServiceUnavailableError(`endpoints "${name}" not found`);
  const portName = servicePort.name ?? '';
  const candidates: { host: string; port: number }[][] = [];
  for (const subset of (endpoints.subsets ?? []) as any[]) {
    const endpointPort = ((subset.ports ?? []) as any[]).find((p) => (p.name ?? '') === portName);
    const addresses = (subset.addresses ?? []) as any[];
    if (endpointPort && addresses.length) candidates.push(addresses.map((a) => ({ host: a.ip, port: endpointPort.port })));
  }
  if (!candidates.length) throw new ServiceUnavailableError(`no endpoints available for service "${name}"`);
  const subset = candidates[pick(candidates.length)];
  return subset[pick(subset.length)];
}

/**
 * A failed call as Go's HTTP client words it (the API server's own words): the request's
 * `Post "URL"` before the cause, and a connection's errno as the dialer says it.
 */
export function callError(url: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const dial: Record<string, string> = { ECONNREFUSED: 'connection refused', EHOSTUNREACH: 'no route to host', ENETUNREACH: 'network is unreachable', ECONNRESET: 'connection reset by peer' };
  const cause = e.code && dial[e.code] && e.address ? `dial tcp ${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}: connect: ${dial[e.code]}` : e.message;
  return new Error(`Post "${url}": ${cause}`, { cause: err });
}

/** POSTs a JSON body over HTTPS and resolves the parsed answer (the transport: one narrow side effect). */
export type WebhookTransport = (target: { host: string; port: number; path: string; servername: string; ca?: string }, body: unknown, timeoutMs: number) => Promise<any>;

export const httpsTransport: WebhookTransport = (target, body, timeoutMs) => new Promise((resolve, reject) => {
  const payload = Buffer.from(JSON.stringify(body));
  const req = request({
    // An IP is checked against the certificate's IP SANs; SNI carries names only (RFC 6066).
    host: target.host, port: target.port, path: target.path || '/', method: 'POST', ...(isIP(target.servername) ? {} : { servername: target.servername }), ca: target.ca, timeout: timeoutMs,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': payload.length },
  }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) return reject(new Error(`the server responded with ${res.statusCode}`));
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(new Error(`the response is not JSON: ${(err as Error).message}`));
      }
    });
  });
  req.on('timeout', () => req.destroy(new Error('context deadline exceeded')));
  req.on('error', reject);
  req.end(payload);
});

// ---- matching (pure) ------------------------------------------------------------------------

function matchesResource(entries: string[], resource: string, subresource: string | undefined): boolean {
  const full = subresource ? `${resource}/${subresource}` : resource;
  return entries.some((e) => {
    if (e === '*/*') return true;
    if (e === '*') return !subresource;
    if (e === full) return true;
    const [res, sub] = e.split('/');
    if (sub === undefined) return false;
    return (res === '*' || res === resource) && (sub === '*' ? !!subresource : sub === subresource);
  });
}

/** Whether a webhook's rules select this write (Kubernetes' rules.Matcher). */
export function rulesMatch(webhook: any, a: Pick<AdmissionAttributes, 'resource' | 'subresource' | 'operation'>): boolean {
  return (webhook.rules ?? []).some((r: any) => {
    const ops: string[] = r.operations ?? [];
    const scope = r.scope ?? '*';
    return (ops.includes('*') || ops.includes(a.operation))
      && ((r.apiGroups ?? []).includes('*') || (r.apiGroups ?? []).includes(a.resource.group))
      && ((r.apiVersions ?? []).includes('*') || (r.apiVersions ?? []).includes(a.resource.version))
      && matchesResource(r.resources ?? [], a.resource.plural, a.subresource)
      && (scope === '*' || (scope === 'Namespaced') === a.resource.namespaced);
  });
}

/** A webhook of a configuration, named, in call order. */
interface Hook {
  config: string;
  webhook: any;
}

/** The webhooks of configurations in Kubernetes' order: configurations by name, webhooks as listed. */
export function hooksOf(configs: KubeObject[]): Hook[] {
  return [...configs]
    .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0))
    .flatMap((c) => (c.webhooks ?? []).map((webhook: any) => ({ config: c.metadata.name!, webhook })));
}

function review(a: AdmissionAttributes, object: KubeObject | undefined, uid: string) {
  const r = a.resource;
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const gvr = { group: r.group, version: r.version, resource: r.plural };
  const optionsKind = a.operation === 'CREATE' ? 'CreateOptions' : a.operation === 'UPDATE' ? 'UpdateOptions' : 'DeleteOptions';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: gvk,
      resource: gvr,
      ...(a.subresource ? { subResource: a.subresource } : {}),
      requestKind: gvk,
      requestResource: gvr,
      ...(a.subresource ? { requestSubResource: a.subresource } : {}),
      name: a.name,
      ...(a.namespace ? { namespace: a.namespace } : {}),
      operation: a.operation,
      userInfo: a.user ? { username: a.user.username, ...(a.user.uid ? { uid: a.user.uid } : {}), groups: a.user.groups, ...(a.user.extra ? { extra: a.user.extra } : {}) } : { username: 'system:wharf', groups: ['system:masters'] },
      object: object ?? null,
      oldObject: a.oldObject ?? null,
      dryRun: a.dryRun,
      options: { apiVersion: 'meta.k8s.io/v1', kind: optionsKind },
    },
  };
}

/** The refusal Kubernetes' ToStatusErr makes of a webhook's denial. */
export function denial(name: string, status: any): ApiError {
  const deniedBy = `admission webhook "${name}" denied the request`;
  const code = typeof status?.code === 'number' && status.code >= 400 ? status.code : 400;
  const message = status?.message ? `${deniedBy}: ${status.message}` : status?.reason ? `${deniedBy}: ${status.reason}` : `${deniedBy} without explanation`;
  return new ApiError(code, status?.reason ?? '', message, status?.details);
}

// ---- the dispatcher -------------------------------------------------------------------------

export class AdmissionWebhooks {
  private mutating: Hook[] = [];
  private validating: Hook[] = [];

  constructor(private readonly cluster: WebhookCluster, private readonly transport: WebhookTransport = httpsTransport) {}

  /** The configurations as they are now (a cache follows them). */
  setConfigurations(mutating: KubeObject[], validating: KubeObject[]): void {
    this.mutating = hooksOf(mutating);
    this.validating = hooksOf(validating);
  }

  get empty(): boolean {
    return !this.mutating.length && !this.validating.length;
  }

  private async selects(hook: Hook, a: AdmissionAttributes, object: KubeObject | undefined): Promise<boolean> {
    if (!rulesMatch(hook.webhook, a)) return false;
    const objectSelector = hook.webhook.objectSelector ?? {};
    if (Object.keys(objectSelector).length) {
      const labelsOf = (o?: KubeObject) => o?.metadata?.labels ?? {};
      if (!selectorMatches(objectSelector, labelsOf(object)) && !(a.oldObject && selectorMatches(objectSelector, labelsOf(a.oldObject)))) return false;
    }
    const namespaceSelector = hook.webhook.namespaceSelector ?? {};
    if (Object.keys(namespaceSelector).length) {
      let labels: Record<string, string> | undefined;
      if (a.resource.plural === 'namespaces' && !a.resource.group) labels = object?.metadata?.labels ?? a.oldObject?.metadata?.labels ?? {};
      else if (a.resource.namespaced && a.namespace) labels = (await this.cluster.namespaceLabels(a.namespace)) ?? {};
      else labels = undefined; // cluster-scoped objects are not selected by namespace
      if (labels && !selectorMatches(namespaceSelector, labels)) return false;
    }
    // matchConditions last, as Kubernetes: a condition that cannot be evaluated fails the write under failurePolicy Fail.
    const held = matchConditionsHold(hook.webhook.matchConditions, a, object, a.oldObject);
    if (typeof held === 'object') {
      if (hook.webhook.failurePolicy === 'Ignore') return false;
      throw new InternalError(`failed calling webhook "${hook.webhook.name}": failed to evaluate match conditions: ${held.error}`);
    }
    return held;
  }

  /** Calls one webhook; resolves its response, or undefined when it failed and failurePolicy is Ignore. */
  private async call(hook: Hook, a: AdmissionAttributes, object: KubeObject | undefined): Promise<any | undefined> {
    const w = hook.webhook;
    const uid = randomUUID();
    const timeoutSeconds = w.timeoutSeconds ?? 10;
    try {
      const { url, resolveTarget } = this.destination(w.clientConfig ?? {}, timeoutSeconds);
      let answer: any;
      try {
        answer = await this.transport(await resolveTarget(), review(a, object, uid), timeoutSeconds * 1000);
      } catch (err) {
        throw callError(url, err);
      }
      const response = answer?.response;
      if (answer?.apiVersion !== 'admission.k8s.io/v1' || answer?.kind !== 'AdmissionReview' || !response) throw new Error('expected response.apiVersion admission.k8s.io/v1 kind AdmissionReview with a response');
      if (response.uid !== uid) throw new Error(`expected response.uid="${uid}", got "${response.uid}"`);
      return response;
    } catch (err) {
      if (w.failurePolicy === 'Ignore') return undefined;
      throw new InternalError(`failed calling webhook "${w.name}": failed to call webhook: ${(err as Error).message}`, err);
    }
  }

  /**
   * Where a webhook is called: the URL the API server names in its errors (Kubernetes adds the
   * timeout as a query parameter, and sends it), and the address it connects to — for a Service,
   * resolved at connect time to a ready endpoint, as Kubernetes' dialer does.
   */
  private destination(cc: any, timeoutSeconds: number): { url: string; resolveTarget: () => Promise<Parameters<WebhookTransport>[0]> } {
    const ca = cc.caBundle ? Buffer.from(cc.caBundle, 'base64').toString('utf8') : undefined;
    if (cc.url) {
      const u = new URL(cc.url);
      u.searchParams.set('timeout', `${timeoutSeconds}s`);
      return { url: u.toString(), resolveTarget: async () => ({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443), path: `${u.pathname}${u.search}`, servername: u.hostname, ca }) };
    }
    const s = cc.service;
    const port = s.port ?? 443;
    const servername = `${s.name}.${s.namespace}.svc`;
    // Built by hand: URL would drop the default port, which Kubernetes' errors show.
    const path = `${s.path ?? '/'}?timeout=${timeoutSeconds}s`;
    return {
      url: `https://${servername}:${port}${path}`,
      resolveTarget: async () => ({ ...(await this.cluster.serviceBackend(s.namespace, s.name, port)), path, servername, ca }),
    };
  }

  /** The mutating webhooks, in order: the object as they leave it. */
  async mutate(a: AdmissionAttributes, input: KubeObject): Promise<KubeObject> {
    let object = input;
    const hooks: Hook[] = [];
    for (const hook of this.mutating) if (await this.selects(hook, a, object)) hooks.push(hook);
    if (!hooks.length) return object;
    const run = async (hook: Hook) => {
      const response = await this.call(hook, a, object);
      if (!response) return;
      if (!response.allowed) throw denial(hook.webhook.name, response.status);
      if (response.patch) {
        if (response.patchType && response.patchType !== 'JSONPatch') throw new InternalError(`failed calling webhook "${hook.webhook.name}": unsupported patch type "${response.patchType}"`);
        const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
        const next = jsonPatch(object, ops) as KubeObject;
        if (!deepEqual(next, object)) {
          object = next;
          return true;
        }
      }
      return false;
    };
    const changedAfter = new Set<Hook>();
    for (const [i, hook] of hooks.entries()) {
      if (await run(hook)) for (const earlier of hooks.slice(0, i)) changedAfter.add(earlier);
    }
    // reinvocationPolicy IfNeeded: once more, for the webhooks a later one changed the object after.
    for (const hook of hooks) if (hook.webhook.reinvocationPolicy === 'IfNeeded' && changedAfter.has(hook)) await run(hook);
    return object;
  }

  /** The validating webhooks (all of them, as Kubernetes calls them in parallel): the first denial refuses. */
  /**
   * A delete, as Kubernetes' delete handler admits it: mutating webhooks that select DELETE are
   * called too (the review carries the object going as oldObject and no object, so there is
   * nothing to patch: they can only refuse), then the validating ones.
   */
  async admitDelete(a: AdmissionAttributes): Promise<void> {
    for (const hook of this.mutating) {
      if (!(await this.selects(hook, a, undefined))) continue;
      const response = await this.call(hook, a, undefined);
      if (response && !response.allowed) throw denial(hook.webhook.name, response.status);
    }
    await this.validate(a, undefined);
  }

  async validate(a: AdmissionAttributes, object: KubeObject | undefined): Promise<void> {
    const hooks: Hook[] = [];
    for (const hook of this.validating) if (await this.selects(hook, a, object)) hooks.push(hook);
    const responses = await Promise.all(hooks.map(async (hook) => ({ hook, response: await this.call(hook, a, object) })));
    for (const { hook, response } of responses) if (response && !response.allowed) throw denial(hook.webhook.name, response.status);
  }
}
