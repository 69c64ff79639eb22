// What the API server does to an object between decoding and storing it, kind by kind:
// defaulting, validation (with Kubernetes' pruning of unknown fields), the namespace check, and
// the fields a client may not set on create (status, for most kinds).
import type { KubeObject, StatusCause } from '../../shared/types.ts';
import { type ResourceInfo, apiVersionOf } from '../../shared/api/resources.ts';
import { applyDefaults } from '../../shared/api/defaults.ts';
import { validateObject } from '../../shared/api/validation.ts';
import { BadRequestError, ForbiddenError, InvalidError, NotFoundError } from '../../shared/errors.ts';
import type { Store } from '../../shared/store/store.ts';
import type { FieldValidation } from './request.ts';

export interface AdmissionResult {
  warnings: string[];
}

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

/** Defaults then validates; unknown fields are pruned, or refused under fieldValidation=Strict. */
export function defaultAndValidate(
  r: ResourceInfo,
  obj: KubeObject,
  fieldValidation: FieldValidation,
  old?: KubeObject,
  decoding = false,
): AdmissionResult {
  applyDefaults(r.kind, obj);
  const { causes, unknownFields } = validateObject(r.kind, obj, old ? { isUpdate: true, old } : {});
  const warnings = unknownFields.map((f) => `unknown field "${f}"`);
  if (fieldValidation === 'Strict' && unknownFields.length) {
    // A decoded body (create, replace) fails as Kubernetes' decoder reports it; a patch without the prefix.
    const prefix = decoding ? `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ` : '';
    throw new BadRequestError(
      `${prefix}strict decoding error: ${warnings.join(', ')}`,
      unknownFields.map((f) => ({ reason: 'FieldValueInvalid', message: `unknown field "${f}"`, field: f })),
    );
  }
  const name = obj.metadata.name ?? obj.metadata.generateName ?? '';
  if (!obj.metadata.name && !obj.metadata.generateName) {
    causes.unshift({ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' });
  }
  if (causes.length) throw new InvalidError(r.kind, name, dedupe(causes), r.group);
  return { warnings: fieldValidation === 'Ignore' ? [] : warnings };
}

function dedupe(causes: StatusCause[]): StatusCause[] {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const k = `${c.field}|${c.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A namespaced object may only be created in a namespace that exists and is not being deleted. */
export async function checkNamespace(store: Store, r: ResourceInfo, namespace: string | undefined): Promise<void> {
  if (!r.namespaced || !namespace) return;
  const ns = await store.get('namespaces', undefined, namespace);
  if (!ns) throw new NotFoundError('namespaces', namespace);
  if (ns.metadata.deletionTimestamp && r.plural !== 'events') {
    throw new ForbiddenError(`${r.plural} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
      kind: r.plural,
      group: r.group,
      causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
    });
  }
}

/** Fields a client does not set on create: status starts as the system's. */
export function prepareForCreate(r: ResourceInfo, obj: KubeObject): void {
  switch (r.plural) {
    case 'pods':
      obj.status = { phase: 'Pending', qosClass: qosClass(obj) };
      break;
    case 'deployments':
    case 'replicasets':
      obj.status = {};
      break;
    case 'namespaces':
      obj.status = { phase: 'Active' };
      obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name! };
      // As Kubernetes' namespace strategy: the namespace controller must empty it before it goes.
      obj.spec = { ...obj.spec, finalizers: [...new Set([...(obj.spec?.finalizers ?? []), 'kubernetes'])] };
      break;
    case 'services':
      obj.status = { loadBalancer: {} };
      break;
    default:
      break;
  }
}

function qosClass(pod: KubeObject): string {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let anyRequest = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) anyRequest = true;
    for (const res of ['cpu', 'memory']) {
      if (!lim[res] || (req[res] && req[res] !== lim[res])) guaranteed = false;
    }
  }
  if (guaranteed) return 'Guaranteed';
  return anyRequest ? 'Burstable' : 'BestEffort';
}
