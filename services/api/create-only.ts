// Create-only kinds (shared/registry CREATE_ONLY: the access reviews, TokenReview): a POST is
// decoded and checked as any create (identity, unknown fields, types, the kind's validation), then
// answered by the kind's answer function and never stored. 201 with the object and its status, as
// Kubernetes' rest.Creater without storage answers.
import type { Request, Response } from 'express';
import type { KubeObject } from '../../shared/types.ts';
import type { UserInfo } from '../../shared/auth/user.ts';
import type { CreateOnlyKind } from '../../shared/registry/strategy.ts';
import { apiVersionOf } from '../../shared/api/resources.ts';
import { structuralErrors } from '../../shared/api/validation.ts';
import { BadRequestError, InvalidError, MethodNotAllowedError } from '../../shared/errors.ts';
import { checkIdentity } from './identity.ts';
import { decodeBody, duplicateFieldWarnings, fieldValidationOf, type ResourcePath } from './request.ts';

/** Who asked, and where: what an answer may depend on. */
export interface CreateOnlyRequest {
  user: UserInfo;
  namespace?: string;
}

/** Decides a checked create-only object: returns the status to answer with. */
export type CreateOnlyAnswer = (obj: KubeObject, request: CreateOnlyRequest) => Promise<unknown>;

/** The answers by "group/plural" ("authorization.k8s.io/selfsubjectaccessreviews"). */
export type CreateOnlyAnswers = Map<string, CreateOnlyAnswer>;

export const createOnlyKey = (r: { group: string; plural: string }) => `${r.group}/${r.plural}`;

export async function serveCreateOnly(kind: CreateOnlyKind, answer: CreateOnlyAnswer, req: Request, res: Response, path: ResourcePath): Promise<void> {
  const r = kind.resource;
  if (req.method !== 'POST' || path.name !== undefined || path.subresource !== undefined) {
    throw new MethodNotAllowedError('the server does not allow this method on the requested resource');
  }
  const validation = fieldValidationOf(req);
  const warnings = duplicateFieldWarnings(req.body as Buffer, req.headers['content-type'], validation, r);
  const obj = checkIdentity(r, decodeBody(req.body as Buffer, req.headers['content-type']), { namespace: path.namespace });
  const { causes, unknownFields } = structuralErrors(kind.schema, obj);
  if (unknownFields.length && validation === 'Strict') {
    const messages = unknownFields.map((f) => `unknown field "${f}"`);
    throw new BadRequestError(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${messages.join(', ')}`);
  }
  if (validation === 'Warn') warnings.push(...unknownFields.map((f) => `unknown field "${f}"`));
  const invalid = causes.length ? causes : kind.validate(obj);
  if (invalid.length) throw new InvalidError(r.kind, '', invalid, r.group);
  const status = await answer(obj, { user: res.locals.user as UserInfo, namespace: path.namespace });
  const { managedFields: _m, ...metadata } = obj.metadata;
  if (warnings.length) res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', '));
  res.status(201).json({ kind: r.kind, apiVersion: apiVersionOf(r), metadata: { ...metadata, creationTimestamp: null }, ...(obj.spec !== undefined ? { spec: obj.spec } : {}), status });
}
