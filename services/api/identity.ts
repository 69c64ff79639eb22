// A decoded request body against the request's path: the kind, group-version, namespace and name
// it must carry. Everything else an object goes through (defaults, validation, admission) is the
// store's write path, the same for every writer (shared/registry/admission.ts).
import type { KubeObject } from '../../shared/types.ts';
import { type ResourceInfo, apiVersionOf } from '../../shared/api/resources.ts';
import { BadRequestError, InvalidError } from '../../shared/errors.ts';

/** Checks apiVersion/kind/name/namespace of a decoded body against the request path. */
export function checkIdentity(r: ResourceInfo, body: unknown, path: { namespace?: string; name?: string }): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError(`Object '${r.kind}' is not a JSON or YAML object`);
  }
  const obj = body as KubeObject;
  const expected = apiVersionOf(r);
  obj.apiVersion = obj.apiVersion ?? expected;
  obj.kind = obj.kind ?? r.kind;
  if (obj.apiVersion !== expected || obj.kind !== r.kind) {
    throw new BadRequestError(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected}) or the kind (${obj.kind}) is not ${r.kind}`);
  }
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  if (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) {
    throw new InvalidError(r.kind, '', [{ reason: 'FieldValueInvalid', field: 'metadata', message: 'Invalid value: must be an object' }], r.group);
  }
  if (r.namespaced) {
    if (obj.metadata.namespace && path.namespace && obj.metadata.namespace !== path.namespace) {
      throw new BadRequestError('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = path.namespace ?? obj.metadata.namespace ?? 'default';
  } else {
    delete obj.metadata.namespace;
  }
  if (path.name !== undefined && obj.metadata.name !== undefined && obj.metadata.name !== path.name) {
    throw new BadRequestError(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${path.name})`);
  }
  if (path.name !== undefined) obj.metadata.name = path.name;
  return obj;
}
