// The verbs of the Kubernetes API over the store: get, list, watch, create, update, patch,
// delete, deletecollection, and the status and scale subresources.
import type { Request, Response } from 'express';
import { isPodTerminal, withDisruptionTarget } from '../../shared/api/podutil.ts';
import type { KubeObject, Pod } from '../../shared/types.ts';
import { evictionVerdict, pdbSelects } from '../../shared/api/disruption.ts';
import { type ResourceInfo, apiVersionOf } from '../../shared/api/resources.ts';
import type { Store } from '../../shared/store/store.ts';
import {
  ApiError,
  BadRequestError,
  InvalidError,
  ForbiddenError,
  InternalError,
  MethodNotAllowedError,
  NotFoundError,
  UnsupportedMediaTypeError,
  TooManyRequestsError,
  isConflict,
} from '../../shared/errors.ts';
import { parseFieldSelector, parseLabelSelector, matchesFields, matchesRequirements } from '../../shared/api/selectors.ts';
import { scaleOf, setScaleReplicas } from '../../shared/api/scale.ts';
import { mergePatch, jsonPatch } from '../../shared/api/patch.ts';
import { strategicMergePatch } from '../../shared/api/strategic-merge.ts';
import {
  type ResourcePath,
  checkListOptions,
  decodeBody,
  decodeContinue,
  decodeDeleteOptions,
  deleteOptionsOf,
  duplicateFieldWarnings,
  encodeContinue,
  fieldValidationOf,
  isDryRun,
  patchTypeOf,
  queryBool,
  queryInt,
  queryString,
  resourceVersionOf,
  warningHeaderValues,
  watchTimeoutSeconds,
} from './request.ts';
import { checkIdentity } from './identity.ts';
import { serveWatch, type WakeHub } from './watch.ts';
import { renderList, renderWatchObject, wantsTable } from './tables.ts';
import type { Logger } from '../../shared/log.ts';
import { streamPodLogs, type AgentClientCredentials } from './logs.ts';
import { isStreamingSubresource, podStreamRequest } from './stream-tunnel.ts';
import { assertPreconditions, type DeleteOptions } from '../../shared/store/store.ts';
import { checkPatchedObject } from '../../shared/api/bounds.ts';
import { INT32_MAX } from '../../shared/api/schemas.ts';
import { serverSideApply } from './apply.ts';
import { checkWriteOptions, fieldManagerFrom } from '../../shared/api/managed-fields.ts';
import type { ManagedWrite } from '../../shared/store/store.ts';
import type { ServiceAccountTokens } from '../../shared/auth/service-account-tokens.ts';
import { createToken } from './token-request.ts';
import { createOnlyKindFor, isCustomResource, strategyFor } from '../../shared/registry/registry.ts';
import { handleCreateOnly, type CreateOnlyHandlers } from './create-only.ts';
import type { UserInfo } from '../../shared/auth/user.ts';
import type { Requester } from '../../shared/registry/strategy.ts';

export interface HandlerContext {
  store: Store;
  hub: WakeHub;
  log: Logger;
  /** Signs ServiceAccount tokens (the serviceaccounts/token subresource). */
  tokens: ServiceAccountTokens;
  /** The answers of the create-only kinds (TokenReview...), by kind. */
  createOnly: CreateOnlyHandlers;
  /** The client certificate node agents accept from the API server. */
  agentClient: AgentClientCredentials;
  /** The requester a write carries into admission, for the user it is made for (RBAC's escalation checks). */
  requester: (user: UserInfo) => Requester;
}

function requesterOf(ctx: HandlerContext, res: Response): Requester {
  return ctx.requester(res.locals.user as UserInfo);
}

/** Who writes, for managedFields: the fieldManager parameter (checked as Kubernetes' Validate*Options) or the User-Agent's prefix. */
function managedWrite(req: Request, optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions', subresource?: 'scale'): ManagedWrite {
  const fieldManager = queryString(req, 'fieldManager');
  checkWriteOptions(optionsKind, { fieldManager, force: queryString(req, 'force') });
  return { manager: fieldManagerFrom(fieldManager, req.headers['user-agent']), subresource };
}

function sendObject(res: Response, code: number, obj: unknown, warnings: string[] = []): void {
  const headers = warningHeaderValues(warnings);
  if (headers.length) res.setHeader('Warning', headers);
  res.status(code).json(obj);
}

function withTypeMeta(r: ResourceInfo, obj: KubeObject): KubeObject {
  return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(r), kind: obj.kind ?? r.kind };
}

/** The selectors of a list or watch; a watch of one object (its legacy path) selects it by name. */
function matcherFor(req: Request, r: ResourceInfo, name?: string): (obj: KubeObject) => boolean {
  const labels = parseLabelSelector(queryString(req, 'labelSelector'));
  let fields = parseFieldSelector(queryString(req, 'fieldSelector'), r.kind, strategyFor(r.plural).selectableFields);
  if (name !== undefined) {
    // As Kubernetes' watch handler: a field selector beside the name must select exactly that name.
    if (fields.length && !fields.some((f) => f.field === 'metadata.name' && !f.negate && f.value === name)) {
      throw new BadRequestError("fieldSelector metadata.name doesn't match requested name");
    }
    if (!fields.length) fields = [{ field: 'metadata.name', value: name, negate: false }];
  }
  return (obj) => matchesRequirements(obj.metadata.labels, labels) && matchesFields(obj, fields);
}

export async function handle(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = path.resource;
  const createOnly = createOnlyKindFor(r);
  if (createOnly) return handleCreateOnly(createOnly, ctx.createOnly, req, res, path);
  if (r.namespaced && path.name !== undefined && path.namespace === undefined) {
    throw new NotFoundError(r.plural, path.name, r.group);
  }
  if (path.subresource) return handleSubresource(ctx, req, res, path);
  if (path.watch && req.method !== 'GET') throw new MethodNotAllowedError(`${req.method} is not supported on a watch path`);
  switch (req.method) {
    case 'GET':
      if (path.watch) return watch(ctx, req, res, path);
      if (path.name !== undefined) return getOne(ctx, req, res, path);
      if (queryBool(req, 'watch')) return watch(ctx, req, res, path);
      return list(ctx, req, res, path);
    case 'POST':
      if (path.name !== undefined) throw new MethodNotAllowedError(`POST is not supported on a named ${r.kind}`);
      return create(ctx, req, res, path);
    case 'PUT':
      if (path.name === undefined) throw new MethodNotAllowedError('PUT needs an object name');
      return update(ctx, req, res, path);
    case 'PATCH':
      if (path.name === undefined) throw new MethodNotAllowedError('PATCH needs an object name');
      return patch(ctx, req, res, path);
    case 'DELETE':
      if (path.name === undefined) return deleteCollection(ctx, req, res, path);
      return remove(ctx, req, res, path);
    default:
      throw new MethodNotAllowedError(`${req.method} is not supported`);
  }
}

async function getOne(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const obj = await ctx.store.mustGet(path.resource, path.namespace, path.name!);
  if (wantsTable(req)) return sendObject(res, 200, renderList(path.resource, [obj], obj.metadata.resourceVersion ?? '', req));
  sendObject(res, 200, withTypeMeta(path.resource, obj));
}

async function list(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = path.resource;
  checkListOptions(req, false);
  const matches = matcherFor(req, r);
  const limit = queryInt(req, 'limit');
  const token = queryString(req, 'continue');
  const after = token ? decodeContinue(token) : undefined;
  const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  let items: KubeObject[];
  const metadata: Record<string, unknown> = {};
  if (limit && limit > 0) {
    // A page read from the store alone; a selector may leave it short, as Kubernetes' pages may be.
    const page = await ctx.store.listPage(r, path.namespace, after?.start ?? '', limit);
    items = page.items.filter(matches);
    metadata.resourceVersion = after?.rv ?? page.resourceVersion;
    if (page.remaining > 0) {
      metadata.continue = encodeContinue({ rv: String(metadata.resourceVersion), start: page.lastKey });
      // As Kubernetes: a count only when no selector makes it a guess.
      if (!queryString(req, 'labelSelector') && !queryString(req, 'fieldSelector')) metadata.remainingItemCount = page.remaining;
    }
  } else {
    const listed = await ctx.store.list(r, path.namespace);
    items = listed.items.filter(matches);
    if (after) items = items.filter((o) => keyOf(o) > after!.start);
    metadata.resourceVersion = after?.rv ?? listed.resourceVersion;
  }
  if (wantsTable(req)) return sendObject(res, 200, { ...renderList(r, items, String(metadata.resourceVersion), req), metadata });
  sendObject(res, 200, {
    kind: r.listKind,
    apiVersion: apiVersionOf(r),
    metadata,
    items: items.map((o) => withTypeMeta(r, o)),
  });
}

async function watch(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  checkListOptions(req, true);
  const matches = matcherFor(req, path.resource, path.name);
  await serveWatch(ctx.store, ctx.hub, res, {
    resource: path.resource,
    namespace: path.namespace,
    resourceVersion: resourceVersionOf(req),
    timeoutSeconds: watchTimeoutSeconds(req),
    allowBookmarks: queryBool(req, 'allowWatchBookmarks'),
    matches,
    render: (obj, type, first) => renderWatchObject(path.resource, obj, req, first),
  }, ctx.log);
}

async function create(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath, applied?: KubeObject): Promise<void> {
  const r = path.resource;
  const obj = checkIdentity(r, applied ?? decodeBody(req.body as Buffer, req.headers['content-type']), { namespace: path.namespace, name: applied ? path.name : undefined });
  const warnings = applied ? [] : duplicateFieldWarnings(req.body as Buffer, req.headers['content-type'], fieldValidationOf(req), r);
  // An applied object carries the managedFields apply gave it.
  const fieldManager = applied ? undefined : managedWrite(req, 'CreateOptions');
  const created = await ctx.store.create(r, obj, { dryRun: isDryRun(req), fieldValidation: fieldValidationOf(req), decoded: !applied, warnings, fieldManager, requester: requesterOf(ctx, res) });
  sendObject(res, 201, withTypeMeta(r, created), warnings);
}

async function update(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = path.resource;
  const obj = checkIdentity(r, decodeBody(req.body as Buffer, req.headers['content-type']), path);
  const warnings = duplicateFieldWarnings(req.body as Buffer, req.headers['content-type'], fieldValidationOf(req), r);
  const updated = await ctx.store.update(r, obj, { dryRun: isDryRun(req), fieldValidation: fieldValidationOf(req), decoded: true, warnings, fieldManager: managedWrite(req, 'UpdateOptions'), requester: requesterOf(ctx, res) });
  sendObject(res, 200, withTypeMeta(r, updated), warnings);
}

/** Applies a patch of any supported type to the current object (a pure step, retried on conflict). */
function applyPatch(r: ResourceInfo, current: KubeObject, patchType: ReturnType<typeof patchTypeOf>, body: unknown): KubeObject {
  const patched = applyPatchOfType(r, current, patchType, body);
  checkPatchedObject(patched);
  return patched;
}

function applyPatchOfType(r: ResourceInfo, current: KubeObject, patchType: ReturnType<typeof patchTypeOf>, body: unknown): KubeObject {
  switch (patchType) {
    case 'merge':
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('merge patch must be a JSON object');
      return mergePatch(current, body);
    case 'json':
      return jsonPatch(current, body);
    case 'strategic':
      // As Kubernetes: a custom resource has no patch strategies to merge by.
      if (isCustomResource(r.plural)) throw new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('strategic merge patch must be a JSON object');
      return strategicMergePatch(r.kind, current, body as Record<string, unknown>);
    case 'apply':
      throw new BadRequestError('server-side apply is handled separately');
  }
}

async function patch(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = path.resource;
  const patchType = patchTypeOf(req.headers['content-type'] ?? '');
  const body = decodeBody(req.body as Buffer, req.headers['content-type']);
  // A resourceVersion the client put in its patch is a precondition; otherwise the patch is
  // re-applied to the newer object on a conflict, as Kubernetes' GuaranteedUpdate does.
  const explicitRv = (body as any)?.metadata?.resourceVersion as string | undefined;
  const warnings = duplicateFieldWarnings(req.body as Buffer, req.headers['content-type'], fieldValidationOf(req));
  // Apply records its own managedFields; any other patch is an Update by its manager.
  const fieldManager = patchType === 'apply' ? undefined : managedWrite(req, 'PatchOptions');
  try {
    const updated = await ctx.store.guaranteedUpdate(r, path.namespace, path.name!, (current) => {
      const patched = patchType === 'apply' ? serverSideApply(r, current, body, req) : applyPatch(r, current, patchType, body);
      return checkIdentity(r, patched, path);
    }, { dryRun: isDryRun(req), fieldValidation: fieldValidationOf(req), warnings, preconditions: explicitRv ? { resourceVersion: explicitRv } : undefined, fieldManager, requester: requesterOf(ctx, res) });
    sendObject(res, 200, withTypeMeta(r, updated), warnings);
  } catch (err) {
    // Server-side apply creates what does not exist yet.
    if (patchType === 'apply' && err instanceof NotFoundError && err.details?.name === path.name && err.details?.kind === r.plural) {
      return create(ctx, req, res, path, serverSideApply(r, undefined, body, req));
    }
    throw err;
  }
}

async function remove(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = path.resource;
  const result = await ctx.store.delete(r, path.namespace, path.name!, { ...deleteOptionsOf(req), requester: requesterOf(ctx, res) });
  if (result.removed && r.plural !== 'pods') {
    return sendObject(res, 200, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: path.name, group: r.group, kind: r.plural, uid: result.object.metadata.uid },
    });
  }
  sendObject(res, 200, withTypeMeta(r, result.object));
}

async function deleteCollection(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = path.resource;
  checkListOptions(req, false);
  const matches = matcherFor(req, r);
  const opts = { ...deleteOptionsOf(req), requester: requesterOf(ctx, res) };
  const listed = await ctx.store.list(r, path.namespace);
  const items: KubeObject[] = [];
  for (const obj of listed.items.filter(matches)) {
    try {
      items.push((await ctx.store.delete(r, obj.metadata.namespace, obj.metadata.name!, opts)).object);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  sendObject(res, 200, { kind: r.listKind, apiVersion: apiVersionOf(r), metadata: {}, items: items.map((o) => withTypeMeta(r, o)) });
}

// ---- subresources -----------------------------------------------------------------------

async function handleSubresource(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = path.resource;
  const sub = path.subresource!;
  if (!r.subresources.includes(sub)) throw new NotFoundError(`${r.plural}/${sub}`, path.name ?? '', r.group);
  if (sub === 'status') return statusSubresource(ctx, req, res, path);
  if (sub === 'scale') return scaleSubresource(ctx, req, res, path);
  if (strategyFor(r.plural).partialWrites?.[sub]) return partialWriteSubresource(ctx, req, res, path);
  if (sub === 'log' && req.method === 'GET') return streamPodLogs(ctx.store, ctx.agentClient, req, res, path.namespace!, path.name!);
  // WebSocket clients upgrade a GET, SPDY clients a POST; both are `create` to RBAC.
  if (isStreamingSubresource(sub) && (req.method === 'GET' || req.method === 'POST')) return podStreamRequest(ctx.store, ctx.agentClient, req, res, path.namespace!, path.name!, sub);
  if (sub === 'eviction' && req.method === 'POST') return evict(ctx, req, res, path);
  if (sub === 'token' && req.method === 'POST') return createToken(ctx.store, ctx.tokens, req, res, path.namespace!, path.name!);
  throw new NotFoundError(`${r.plural}/${sub}`, path.name ?? '', r.group);
}

async function statusSubresource(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = path.resource;
  const dryRun = isDryRun(req);
  switch (req.method) {
    case 'GET':
      return getOne(ctx, req, res, path);
    case 'PUT': {
      const obj = checkIdentity(r, decodeBody(req.body as Buffer, req.headers['content-type']), path);
      const updated = await ctx.store.update(r, obj, { subresource: 'status', dryRun, fieldManager: managedWrite(req, 'UpdateOptions') });
      return sendObject(res, 200, withTypeMeta(r, updated));
    }
    case 'PATCH': {
      const patchType = patchTypeOf(req.headers['content-type'] ?? '');
      const body = decodeBody(req.body as Buffer, req.headers['content-type']);
      const updated = await ctx.store.guaranteedUpdate(r, path.namespace, path.name!, (current) => applyPatch(r, current, patchType, body), { subresource: 'status', dryRun, fieldManager: managedWrite(req, 'PatchOptions') });
      return sendObject(res, 200, withTypeMeta(r, updated));
    }
    default:
      throw new MethodNotAllowedError(`${req.method} is not supported on ${r.plural}/status`);
  }
}

/**
 * A subresource that writes one part of the object (pods/ephemeralcontainers): GET answers the
 * object; PUT and PATCH take only that part from what the client sends (the kind's partialWrites),
 * admitted as an update of the whole (validation, Pod Security), and answer the whole object.
 */
async function partialWriteSubresource(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = path.resource;
  const sub = path.subresource!;
  const dryRun = isDryRun(req);
  const warnings: string[] = [];
  switch (req.method) {
    case 'GET':
      return getOne(ctx, req, res, path);
    case 'PUT': {
      const obj = checkIdentity(r, decodeBody(req.body as Buffer, req.headers['content-type']), path);
      const rv = obj.metadata?.resourceVersion || undefined;
      const updated = await ctx.store.guaranteedUpdate(r, path.namespace, path.name!, () => obj, {
        subresource: sub, dryRun, warnings, fieldValidation: fieldValidationOf(req), preconditions: rv ? { resourceVersion: rv } : undefined, fieldManager: managedWrite(req, 'UpdateOptions'), requester: requesterOf(ctx, res),
      });
      return sendObject(res, 200, withTypeMeta(r, updated), warnings);
    }
    case 'PATCH': {
      const patchType = patchTypeOf(req.headers['content-type'] ?? '');
      if (patchType === 'apply') throw new UnsupportedMediaTypeError(req.headers['content-type'] ?? '');
      const body = decodeBody(req.body as Buffer, req.headers['content-type']);
      const explicitRv = (body as any)?.metadata?.resourceVersion as string | undefined;
      const updated = await ctx.store.guaranteedUpdate(r, path.namespace, path.name!, (current) => checkIdentity(r, applyPatch(r, current, patchType, body), path), {
        subresource: sub, dryRun, warnings, fieldValidation: fieldValidationOf(req), preconditions: explicitRv ? { resourceVersion: explicitRv } : undefined, fieldManager: managedWrite(req, 'PatchOptions'), requester: requesterOf(ctx, res),
      });
      return sendObject(res, 200, withTypeMeta(r, updated), warnings);
    }
    default:
      throw new MethodNotAllowedError(`${req.method} is not supported on ${r.plural}/${sub}`);
  }
}

/**
 * policy/v1 Eviction: a pod deletion that asks the pod's disruption budget first. A budget with no
 * disruption left answers 429 (kubectl drain retries); one that allows it gives one up by a
 * compare-and-set on its resourceVersion before the pod is deleted (Kubernetes' eviction REST).
 */
async function evict(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const body = decodeBody(req.body as Buffer, req.headers['content-type']) as any;
  if (!body || typeof body !== 'object' || Array.isArray(body) || (body.kind && body.kind !== 'Eviction')) throw new BadRequestError('the body of an eviction must be a policy/v1 Eviction');
  if (body.metadata?.name && body.metadata.name !== path.name) {
    throw new BadRequestError(`name in URL does not match name in Eviction object`);
  }
  const options = decodeDeleteOptions(body.deleteOptions ?? {}, 'Eviction.deleteOptions');
  const dryRun = isDryRun(req) || !!options.dryRun;
  const preconditions = options.preconditions ?? {};
  await spendDisruption(ctx, path.namespace!, path.name!, preconditions, dryRun);
  let deletePreconditions = preconditions;
  if (!dryRun) {
    // As Kubernetes' eviction does: the pod says why it is going before it goes. Preconditions are
    // checked in that update, and the delete then expects the version the update wrote.
    const marked = await ctx.store.guaranteedUpdate<Pod>('pods', path.namespace, path.name!, (cur) => {
      assertPreconditions('pods', cur, preconditions);
      if (cur.metadata.deletionTimestamp || isPodTerminal(cur)) return null;
      return { ...cur, status: { ...cur.status, conditions: withDisruptionTarget(cur, 'EvictionByEvictionAPI', 'Eviction API: evicting', Date.now()) } };
    }, { subresource: 'status' });
    if (preconditions.resourceVersion) deletePreconditions = { ...preconditions, resourceVersion: marked.metadata.resourceVersion };
  }
  await ctx.store.delete('pods', path.namespace, path.name!, {
    gracePeriodSeconds: options.gracePeriodSeconds,
    preconditions: deletePreconditions,
    dryRun,
    requester: requesterOf(ctx, res),
  });
  sendObject(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

async function spendDisruption(ctx: HandlerContext, namespace: string, name: string, preconditions: DeleteOptions['preconditions'], dryRun: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const pod = (await ctx.store.mustGet('pods', namespace, name)) as Pod;
    // A stale precondition is refused before the budget gives anything up.
    assertPreconditions('pods', pod, preconditions);
    if (pod.metadata.deletionTimestamp) return; // already going: deleting again only shortens nothing
    const pdbs = (await ctx.store.list('poddisruptionbudgets', namespace)).items.filter((pdb) => pdbSelects(pdb, pod));
    if (!pdbs.length) return;
    if (pdbs.length > 1) throw new InternalError('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    const pdb = pdbs[0];
    const verdict = evictionVerdict(pdb, pod);
    if (!verdict.allow) {
      const details = verdict.cause ? { causes: [{ reason: verdict.cause.reason, message: verdict.cause.message, field: '' }] } : undefined;
      if (verdict.code === 429) throw new TooManyRequestsError(verdict.message, details);
      throw new ForbiddenError(verdict.message);
    }
    if (!verdict.decrement || dryRun) return;
    const status = pdb.status ?? {};
    const next = { ...pdb, status: { ...status, disruptionsAllowed: status.disruptionsAllowed - 1, disruptedPods: { ...status.disruptedPods, [name]: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } } };
    try {
      await ctx.store.update('poddisruptionbudgets', next, { subresource: 'status' }); // conditional: next carries the read resourceVersion
      return;
    } catch (err) {
      if (!isConflict(err) || attempt >= 5) throw err;
    }
  }
}

function scaleReplicas(scale: KubeObject | undefined, name: string): number {
  const replicas = scale?.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new InvalidError('Scale', name, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }], 'autoscaling');
  }
  if (replicas > INT32_MAX) {
    throw new InvalidError('Scale', name, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${replicas}: must be less than or equal to ${INT32_MAX}` }], 'autoscaling');
  }
  return replicas;
}

/**
 * autoscaling/v1 Scale of a Deployment or ReplicaSet. A PUT's resourceVersion is a precondition
 * checked against the very version the write replaces, so of concurrent PUTs with one version
 * exactly one wins; a PATCH applies to the Scale of the object it writes.
 */
async function scaleSubresource(ctx: HandlerContext, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = path.resource;
  if (req.method === 'GET') return sendObject(res, 200, scaleOf(await ctx.store.mustGet(r, path.namespace, path.name!), r));
  if (req.method !== 'PUT' && req.method !== 'PATCH') throw new MethodNotAllowedError(`${req.method} is not supported on ${r.plural}/scale`);
  const body = decodeBody(req.body as Buffer, req.headers['content-type']);
  let precondition: string | undefined;
  let put: number | undefined;
  if (req.method === 'PUT') {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError('the body of a scale update must be an autoscaling/v1 Scale');
    put = scaleReplicas(body as KubeObject, path.name!);
    precondition = (body as KubeObject).metadata?.resourceVersion || undefined;
  }
  const patchType = req.method === 'PATCH' ? patchTypeOf(req.headers['content-type'] ?? '') : undefined;
  if (patchType && patchType !== 'merge' && patchType !== 'json' && patchType !== 'strategic') throw new UnsupportedMediaTypeError(req.headers['content-type'] ?? '');
  const updated = await ctx.store.guaranteedUpdate(r, path.namespace, path.name!, (obj) => {
    let replicas = put;
    if (replicas === undefined) {
      const current = scaleOf(obj, r);
      const patched = patchType === 'json' ? jsonPatch(current, body) : mergePatch(current, body);
      checkPatchedObject(patched);
      replicas = scaleReplicas(patched, path.name!);
    }
    return setScaleReplicas(obj, replicas, r);
  }, { dryRun: isDryRun(req), preconditions: precondition ? { resourceVersion: precondition } : undefined, fieldManager: managedWrite(req, req.method === 'PUT' ? 'UpdateOptions' : 'PatchOptions', 'scale') });
  sendObject(res, 200, scaleOf(updated, r));
}
