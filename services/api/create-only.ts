// The create-only kinds (shared/registry: CreateOnlyKind) over HTTP: the review APIs, which a
// client POSTs and the API server answers 201 with the object and its computed status, storing
// nothing (Kubernetes' REST storage that implements only rest.Creater). Each kind's answer comes
// from the part of the API server that knows it (authentication, authorization), registered by kind.
import type { Request, Response } from 'express';
import type { CreateOnlyKind } from '../../shared/registry/strategy.ts';
import { admitCreateOnly } from '../../shared/registry/admission.ts';
import type { UserInfo } from '../../shared/auth/user.ts';
import type { KubeObject } from '../../shared/types.ts';
import { ApiError, InternalError, MethodNotAllowedError } from '../../shared/errors.ts';
import { decodeBody, duplicateFieldWarnings, fieldValidationOf, warningHeaderValues, type ResourcePath } from './request.ts';
import { checkIdentity } from './identity.ts';

/** What a create-only kind's answer may depend on: who asks, and the namespace of the path (LocalSubjectAccessReview). */
export interface CreateOnlyContext {
  user: UserInfo;
  namespace?: string;
}

/** Computes the answer to one create of a kind: the object as sent, with its status filled in. Throws an ApiError to refuse. */
export type CreateOnlyHandler = (obj: KubeObject, ctx: CreateOnlyContext) => Promise<KubeObject>;

/** Handlers by kind ("TokenReview"). */
export type CreateOnlyHandlers = Record<string, CreateOnlyHandler>;

export async function handleCreateOnly(kind: CreateOnlyKind, handlers: CreateOnlyHandlers, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = kind.resource;
  // The kind has a collection path and a POST on it, nothing else (as Kubernetes' routes).
  if (path.name !== undefined || path.subresource !== undefined || path.watch) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', { causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found', field: '' }] });
  }
  if (req.method !== 'POST') throw new MethodNotAllowedError('the server does not allow this method on the requested resource');
  const handler = handlers[r.kind];
  if (!handler) throw new InternalError(`no handler is registered for ${r.kind}`);
  const obj = checkIdentity(r, decodeBody(req.body as Buffer, req.headers['content-type']), { namespace: path.namespace });
  const validation = fieldValidationOf(req);
  const warnings = duplicateFieldWarnings(req.body as Buffer, req.headers['content-type'], validation, r);
  admitCreateOnly(kind, obj, { fieldValidation: validation, decoded: true, warnings });
  const answered = await handler(obj, { user: res.locals.user as UserInfo, namespace: path.namespace });
  const warningHeaders = warningHeaderValues(warnings);
  if (warningHeaders.length) res.setHeader('Warning', warningHeaders);
  res.status(201).json({ ...answered, apiVersion: obj.apiVersion, kind: obj.kind, metadata: { creationTimestamp: null, ...answered.metadata } });
}
