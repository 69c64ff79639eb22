// Turning an HTTP request into what the API means: which resource, which object, which verb,
// and the decoded body. Everything here is pure or reads only the request.
import type { Request } from 'express';
import { parseAllDocuments } from 'yaml';
import { findByPath, type ResourceInfo } from '../../shared/api/resources.ts';
import { BadRequestError, NotFoundError, UnsupportedMediaTypeError } from '../../shared/errors.ts';
import { decodeProtobuf, PROTOBUF } from './protobuf.ts';

export interface ResourcePath {
  group: string;
  version: string;
  resource: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * `/api/v1/namespaces/ns/pods/name/status`, `/apis/apps/v1/deployments`, `/api/v1/namespaces/x`.
 * Returns undefined for paths that are not resource paths at all.
 */
export function parseResourcePath(path: string): ResourcePath | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  // namespaces/{ns}/{resource}/... unless it addresses the Namespace object itself (or its subresource)
  if (rest[0] === 'namespaces' && rest.length >= 3 && findByPath(group, version, rest[2])) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = findByPath(group, version, rest[0]);
  if (!resource) {
    const what = group ? `${rest[0]}.${group}` : rest[0];
    throw new NotFoundError(what, rest[1] ?? '', group);
  }
  if (rest.length > 3) return undefined;
  return { group, version, resource, namespace, name: rest[1], subresource: rest[2] };
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string): PatchType {
  const ct = contentType.split(';')[0].trim().toLowerCase();
  switch (ct) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/json-patch+json':
      return 'json';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+json':
      return 'apply';
    default:
      throw new UnsupportedMediaTypeError(contentType);
  }
}

/** Decodes a JSON or YAML body (or patch). Malformed input is a 400 that says where. */
export function decodeBody(raw: Buffer | undefined, contentType: string | undefined): unknown {
  if ((contentType ?? '').split(';')[0].trim().toLowerCase() === PROTOBUF) {
    if (!raw || !raw.length) throw new BadRequestError('the request body is empty');
    return decodeProtobuf(raw);
  }
  const text = raw && raw.length ? raw.toString('utf8') : '';
  if (!text.trim()) throw new BadRequestError('the request body is empty');
  const ct = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  const isYaml = ct === 'application/yaml' || ct === 'application/x-yaml' || ct === 'text/yaml' || ct === 'application/apply-patch+yaml';
  if (!isYaml) {
    if (!ct.endsWith('json') && ct !== '*/*' && ct !== 'text/plain') throw new UnsupportedMediaTypeError(ct);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new BadRequestError(`json: ${(err as Error).message}`);
    }
  }
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const real = list.filter((d) => d.contents !== null);
  if (real.length !== 1) throw new BadRequestError(`yaml: expected exactly one document in the request body, found ${real.length}`);
  const doc = real[0];
  if (doc.errors.length) throw new BadRequestError(`yaml: ${doc.errors[0].message.split('\n')[0]}`);
  return doc.toJSON();
}

export function queryString(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (Array.isArray(v)) return String(v[v.length - 1]);
  return v === undefined ? undefined : String(v);
}

export function queryBool(req: Request, name: string): boolean {
  const v = queryString(req, name);
  return v === 'true' || v === '1' || v === '';
}

export function queryInt(req: Request, name: string): number | undefined {
  const v = queryString(req, name);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new BadRequestError(`invalid value for ${name}: "${v}"`);
  return n;
}

export function isDryRun(req: Request): boolean {
  const v = queryString(req, 'dryRun');
  if (v === undefined) return false;
  if (v !== 'All') throw new BadRequestError(`Invalid dryRun value: ${v}: supported values: "All"`);
  return true;
}

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export function fieldValidationOf(req: Request): FieldValidation {
  const v = queryString(req, 'fieldValidation');
  if (v === undefined || v === '') return 'Warn';
  if (v !== 'Ignore' && v !== 'Warn' && v !== 'Strict') {
    throw new BadRequestError(`fieldValidation parameter unsupported: ${v}. Supported values are: Ignore, Warn, Strict`);
  }
  return v;
}
