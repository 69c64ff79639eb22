// The validation library of the API, as Kubernetes v1.32's validation functions: the structural
// check against a kind's schema (unknown fields pruned and reported, for fieldValidation=Strict;
// types, required fields and enumerations checked by ajv), and the semantic rules several kinds
// share — names, labels, metadata, pod specs, selectors, templates, ports, endpoint addresses —
// each cause naming its field the way kubectl prints it (`spec.template.spec.containers[0].image`).
// Rules of one kind only live in that kind's strategy (shared/registry/kinds/).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { BlockList, isIP } from 'node:net';
import type { StatusCause } from '../types.ts';
import { isValidQuantity, parseQuantity } from './quantity.ts';
import { OPENAPI } from './schemas.ts';
import { selectorMatches } from './selectors.ts';

export interface ValidationResult {
  causes: StatusCause[];
  unknownFields: string[];
}

const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addFormat('date-time', { type: 'string', validate: isRfc3339Time });

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,]\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** Whether Go's time.Parse(time.RFC3339, s) takes s: the form, and each field within its range. */
export function isRfc3339Time(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second, zoneHour, zoneMinute] = m.slice(1).map((part) => Number(part ?? 0));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return daysInMonth !== undefined && day >= 1 && day <= daysInMonth && hour < 24 && minute < 60 && second < 60 && zoneHour < 24 && zoneMinute < 60;
}
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: Record<string, any>): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) compiled.set(schema, (validate = ajv.compile(withSharedDefinitions(schema))));
  return validate;
}

// ---- definitions compiled once ---------------------------------------------------------
// Every workload kind embeds a PodSpec (its Containers, Volumes, Probes...), and ajv compiles a
// schema's subschemas inline: the Pod's took over a second of CPU on a loaded machine, the
// ReplicaSet's and Deployment's most of that again, in each process that writes them. A named
// definition (schemas.ts's `named`) is instead added to ajv once and referenced, so each is
// compiled once per process. What the object must satisfy is unchanged: a $ref validates the data
// at the same instancePath, against the same keywords.

/** Keywords that say nothing of what validates: two definitions differing in these only are one. */
const ANNOTATIONS = new Set(['description', OPENAPI]);
const objectIds = new WeakMap<object, number>();
const definitionRefs = new Map<string, string>();

let nextObjectId = 0;
function objectId(value: object): number {
  let id = objectIds.get(value);
  if (id === undefined) objectIds.set(value, (id = nextObjectId++));
  return id;
}

/** What a definition validates, as a key: its validating keywords and the identity of each value. */
function definitionKey(schema: Record<string, any>): string {
  return Object.keys(schema)
    .filter((k) => !ANNOTATIONS.has(k))
    .sort()
    .map((k) => {
      const v = schema[k];
      const shallow = v !== null && typeof v === 'object' && !(Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'));
      return `${k}=${shallow ? `#${objectId(v)}` : JSON.stringify(v)}`;
    })
    .join(';');
}

/** A copy of the schema for ajv in which each named definition below the root is a $ref to its one compiled copy. */
function withSharedDefinitions(schema: unknown, root = true): any {
  if (schema === null || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) return schema.map((s) => withSharedDefinitions(s, false));
  const s = schema as Record<string, any>;
  if (!root && s[OPENAPI]?.definition) {
    const key = definitionKey(s);
    let ref = definitionRefs.get(key);
    if (!ref) {
      ref = `wharf-definition-${definitionRefs.size}`;
      definitionRefs.set(key, ref);
      ajv.addSchema(withSharedDefinitions(s, true), ref);
    }
    return { $ref: ref };
  }
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === OPENAPI || k === 'enum' || k === 'const' || k === 'default' ? v : withSharedDefinitions(v, false)]));
}

// ---- field paths and causes ------------------------------------------------------------

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** A JSON pointer (ajv's instancePath) as Kubernetes names the field: spec.containers[0].image. */
export function pointerToPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path = /^\d+$/.test(part) ? `${path}[${part}]` : join(path, part);
  }
  return path;
}

export const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? 'null');

export const invalid = (field: string, value: unknown, why: string): StatusCause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: ${why}` });
export const required = (field: string, why = ''): StatusCause => ({ reason: 'FieldValueRequired', field, message: why ? `Required value: ${why}` : 'Required value' });
export const unsupported = (field: string, value: unknown, allowed: string[]): StatusCause => ({
  reason: 'FieldValueNotSupported',
  field,
  message: `Unsupported value: ${show(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
});
export const duplicate = (field: string, value: unknown): StatusCause => ({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${show(value)}` });
export const forbidden = (field: string, why: string): StatusCause => ({ reason: 'FieldValueForbidden', field, message: `Forbidden: ${why}` });
export const tooLong = (field: string, value: unknown, max: number): StatusCause => ({ reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes` });

function fromAjv(e: ErrorObject, obj: unknown): StatusCause | undefined {
  const field = pointerToPath(e.instancePath);
  const value = e.instancePath.split('/').slice(1).reduce<any>((v, k) => v?.[k.replaceAll('~1', '/').replaceAll('~0', '~')], obj);
  switch (e.keyword) {
    case 'required':
      return required(join(field, (e.params as any).missingProperty));
    case 'type':
      return invalid(field, value, `must be of type ${String((e.params as any).type).replace(',', ' or ')}`);
    case 'enum':
      return unsupported(field, value, (e.params as any).allowedValues);
    case 'minimum':
      return invalid(field, value, `must be greater than or equal to ${(e.params as any).limit}`);
    case 'maximum':
      return invalid(field, value, `must be less than or equal to ${(e.params as any).limit}`);
    case 'format':
      return invalid(field, value, 'must be a time in RFC 3339 form (2006-01-02T15:04:05Z07:00)');
    case 'additionalProperties':
      return undefined; // handled by pruning
    default:
      return invalid(field, value, e.message ?? 'invalid');
  }
}

// ---- pruning ---------------------------------------------------------------------------

function prune(schema: any, value: any, path: string, unknown: string[]): void {
  if (!schema || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => prune(schema.items, v, `${path}[${i}]`, unknown));
    return;
  }
  const props = schema.properties as Record<string, any> | undefined;
  for (const key of Object.keys(value)) {
    if (props && key in props) prune(props[key], value[key], join(path, key), unknown);
    else if (schema.additionalProperties === false) {
      unknown.push(join(path, key));
      delete value[key];
    } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      prune(schema.additionalProperties, value[key], join(path, key), unknown);
    }
  }
}

/**
 * An object against its kind's schema: unknown fields pruned from it (and listed, for
 * fieldValidation), then the schema's types, required fields and enumerations.
 */
export function structuralErrors(schema: Record<string, any>, obj: unknown): ValidationResult {
  const unknownFields: string[] = [];
  prune(schema, obj, '', unknownFields);
  const causes: StatusCause[] = [];
  const validate = validatorFor(schema);
  if (!validate(obj)) {
    for (const e of validate.errors ?? []) {
      const cause = fromAjv(e, obj);
      if (cause) causes.push(cause);
    }
  }
  return { causes, unknownFields };
}

// ---- names, labels, annotations --------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function dnsLabelErrors(field: string, value: string): StatusCause[] {
  if (value.length > 63) return [invalid(field, value, 'must be no more than 63 characters')];
  if (!DNS1123_LABEL.test(value)) {
    return [invalid(field, value, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")];
  }
  return [];
}

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function dns1035LabelErrors(field: string, value: string): StatusCause[] {
  if (value.length > 63) return [invalid(field, value, 'must be no more than 63 characters')];
  if (!DNS1035_LABEL.test(value)) {
    return [invalid(field, value, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")];
  }
  return [];
}

export function dnsSubdomainErrors(field: string, value: string): StatusCause[] {
  if (value.length > 253) return [invalid(field, value, 'must be no more than 253 characters')];
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return [invalid(field, value, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")];
  }
  return [];
}

export function qualifiedNameErrors(field: string, key: string): StatusCause[] {
  const parts = key.split('/');
  if (parts.length > 2) return [invalid(field, key, "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'")];
  const name = parts[parts.length - 1];
  const out: StatusCause[] = [];
  if (parts.length === 2 && (parts[0] === '' || dnsSubdomainErrors(field, parts[0]).length)) out.push(invalid(field, key, 'prefix part must be a lowercase RFC 1123 subdomain'));
  if (!name || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    out.push(invalid(field, key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
  }
  return out;
}

export function labelErrors(field: string, labels: Record<string, unknown> | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    out.push(...qualifiedNameErrors(field, k));
    if (typeof v === 'string' && (v.length > 63 || !LABEL_VALUE.test(v))) {
      out.push(invalid(field, v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
    }
  }
  return out;
}

/** Kubernetes' ValidateAnnotations: each key a qualified name, 256 KiB in all. */
export function annotationErrors(field: string, annotations: Record<string, unknown> | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  for (const k of Object.keys(annotations ?? {})) out.push(...qualifiedNameErrors(field, k));
  const size = Object.entries(annotations ?? {}).reduce((s, [k, v]) => s + k.length + String(v).length, 0);
  if (size > 256 * 1024) out.push(tooLong(field, '', 256 * 1024));
  return out;
}

/**
 * Kubernetes' ValidateObjectMeta beyond the name (which the kind's strategy checks): namespace,
 * labels, annotations (256 KiB in all), ownerReferences and finalizers.
 */
export function metadataErrors(meta: any): StatusCause[] {
  const out: StatusCause[] = [];
  if (!meta || typeof meta !== 'object') return out;
  if (typeof meta.namespace === 'string' && meta.namespace) out.push(...dnsLabelErrors('metadata.namespace', meta.namespace));
  out.push(...labelErrors('metadata.labels', meta.labels), ...annotationErrors('metadata.annotations', meta.annotations));
  (Array.isArray(meta.ownerReferences) ? meta.ownerReferences : []).forEach((ref: any, i: number) => {
    const f = `metadata.ownerReferences[${i}]`;
    if (!ref?.apiVersion) out.push(invalid(`${f}.apiVersion`, ref?.apiVersion ?? '', 'version must not be empty'));
    if (!ref?.kind) out.push(invalid(`${f}.kind`, ref?.kind ?? '', 'kind must not be empty'));
    if (!ref?.name) out.push(invalid(`${f}.name`, ref?.name ?? '', 'name must not be empty'));
    if (!ref?.uid) out.push(invalid(`${f}.uid`, ref?.uid ?? '', 'uid must not be empty'));
  });
  if ((meta.ownerReferences ?? []).filter((r: any) => r?.controller).length > 1) {
    out.push(invalid('metadata.ownerReferences', meta.ownerReferences, 'Only one reference can have Controller set to true'));
  }
  (Array.isArray(meta.finalizers) ? meta.finalizers : []).forEach((f: string, i: number) => {
    // A finalizer is a qualified name; Kubernetes' own ("kubernetes", "orphan", "foregroundDeletion") have no prefix.
    out.push(...qualifiedNameErrors(`metadata.finalizers[${i}]`, f));
  });
  return out;
}

/** A name or, with prefix, a generateName (whose last dash the random suffix follows), as apimachinery's name functions. */
export function nameValidator(check: (field: string, value: string) => StatusCause[]): (field: string, name: string, prefix: boolean) => StatusCause[] {
  return (field, name, prefix) => {
    const masked = prefix && name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
    return check(field, masked).map((c) => ({ ...c, message: c.message.replace(JSON.stringify(masked), JSON.stringify(name)) }));
  };
}

// ---- pod specs -------------------------------------------------------------------------

export function probeErrors(field: string, probe: any, ports: any[]): StatusCause[] {
  if (!probe || typeof probe !== 'object') return [];
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => probe[h]);
  if (handlers.length !== 1) return [required(field, 'must specify a handler type')];
  const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
  if (typeof port === 'number' && (port < 1 || port > 65535)) return [invalid(`${field}.${handlers[0]}.port`, port, 'must be between 1 and 65535, inclusive')];
  if (typeof port === 'string' && !/^\d+$/.test(port) && !ports.some((p) => p?.name === port)) {
    if (!IANA_SVC_NAME.test(port) || port.length > 15) return [invalid(`${field}.${handlers[0]}.port`, port, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')];
  }
  return [];
}

function containerErrors(field: string, c: any, names: Set<string>, volumes: Set<string>): StatusCause[] {
  const out: StatusCause[] = [];
  if (!c || typeof c !== 'object') return out;
  if (typeof c.name !== 'string' || !c.name) out.push(required(`${field}.name`));
  else {
    out.push(...dnsLabelErrors(`${field}.name`, c.name));
    if (names.has(c.name)) out.push(duplicate(`${field}.name`, c.name));
    names.add(c.name);
  }
  if (typeof c.image !== 'string' || !c.image.trim()) out.push(required(`${field}.image`));
  const seenPorts = new Set<string>();
  const portNames = new Set<string>();
  (Array.isArray(c.ports) ? c.ports : []).forEach((p: any, i: number) => {
    const pf = `${field}.ports[${i}]`;
    if (typeof p?.containerPort === 'number' && (p.containerPort < 1 || p.containerPort > 65535)) out.push(invalid(`${pf}.containerPort`, p.containerPort, 'must be between 1 and 65535, inclusive'));
    if (typeof p?.hostPort === 'number' && p.hostPort !== 0 && (p.hostPort < 1 || p.hostPort > 65535)) out.push(invalid(`${pf}.hostPort`, p.hostPort, 'must be between 1 and 65535, inclusive'));
    if (typeof p?.name === 'string') {
      if (p.name.length > 15 || !IANA_SVC_NAME.test(p.name) || !/[a-z]/.test(p.name)) out.push(invalid(`${pf}.name`, p.name, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters, at least one letter'));
      else if (portNames.has(p.name)) out.push(duplicate(`${pf}.name`, p.name));
      portNames.add(p.name);
    }
    const key = `${p?.containerPort}/${p?.protocol ?? 'TCP'}`;
    if (seenPorts.has(key)) out.push(duplicate(pf, key));
    seenPorts.add(key);
  });
  (Array.isArray(c.env) ? c.env : []).forEach((e: any, i: number) => {
    if (typeof e?.name === 'string' && !ENV_NAME.test(e.name)) out.push(invalid(`${field}.env[${i}].name`, e.name, "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit"));
    if (e?.value !== undefined && e?.valueFrom) out.push(invalid(`${field}.env[${i}].valueFrom`, '', 'may not be specified when `value` is not empty'));
    for (const ref of ['configMapKeyRef', 'secretKeyRef']) {
      const name = e?.valueFrom?.[ref]?.name;
      if (typeof name === 'string') out.push(...(name ? dnsSubdomainErrors(`${field}.env[${i}].valueFrom.${ref}.name`, name) : [required(`${field}.env[${i}].valueFrom.${ref}.name`)]));
    }
  });
  // As Kubernetes' validateConfigMapEnvSource and validateSecretEnvSource: a name, checked as a prefix would be.
  (Array.isArray(c.envFrom) ? c.envFrom : []).forEach((e: any, i: number) => {
    for (const ref of ['configMapRef', 'secretRef']) {
      const name = e?.[ref]?.name;
      const f = `${field}.envFrom[${i}].${ref}.name`;
      if (typeof name === 'string') out.push(...(name ? nameValidator(dnsSubdomainErrors)(f, name, true) : [required(f)]));
    }
  });
  const res = c.resources ?? {};
  for (const kind of ['limits', 'requests'] as const) {
    for (const [name, q] of Object.entries(res[kind] ?? {})) {
      const f = `${field}.resources.${kind}[${name}]`;
      if (!isValidQuantity(q)) out.push(invalid(f, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
      else if (parseQuantity(q as string) < 0) out.push(invalid(f, q, 'must be greater than or equal to 0'));
    }
  }
  for (const [name, q] of Object.entries(res.requests ?? {})) {
    const limit = res.limits?.[name];
    if (limit !== undefined && isValidQuantity(q) && isValidQuantity(limit) && parseQuantity(q as string) > parseQuantity(limit as string)) {
      out.push(invalid(`${field}.resources.requests`, q, `must be less than or equal to ${name} limit of ${limit}`));
    }
  }
  (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).forEach((m: any, i: number) => {
    const f = `${field}.volumeMounts[${i}]`;
    if (typeof m?.name === 'string' && !volumes.has(m.name)) out.push({ reason: 'FieldValueNotFound', field: `${f}.name`, message: `Not found: ${show(m.name)}` });
    if (typeof m?.mountPath === 'string' && !m.mountPath) out.push(required(`${f}.mountPath`));
    for (const key of ['subPath', 'subPathExpr']) if (typeof m?.[key] === 'string' && m[key]) out.push(...localDescendingPathErrors(`${f}.${key}`, m[key]));
    if (m?.subPath && m?.subPathExpr) out.push(invalid(`${f}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
  });
  for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) out.push(...probeErrors(`${field}.${p}`, c[p], c.ports ?? []));
  if (c.livenessProbe && (c.livenessProbe.successThreshold ?? 1) !== 1) out.push(invalid(`${field}.livenessProbe.successThreshold`, c.livenessProbe.successThreshold, 'must be 1'));
  if (c.startupProbe && (c.startupProbe.successThreshold ?? 1) !== 1) out.push(invalid(`${field}.startupProbe.successThreshold`, c.startupProbe.successThreshold, 'must be 1'));
  return out;
}

/** The fields of a container an ephemeral container may not set (Kubernetes' allowedEphemeralContainerFields, in Container's order). */
const EPHEMERAL_FORBIDDEN = ['ports', 'resources', 'resizePolicy', 'restartPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'];

function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as object).every(isZero);
  return false;
}

/**
 * Kubernetes' validateEphemeralContainers: each is a container (names unique across every kind of
 * container), its target one of the pod's containers or init containers, and nothing a running
 * workload would rely on (ports, probes, lifecycle, resources, subPath mounts).
 */
function ephemeralContainerErrors(field: string, spec: any, names: Set<string>, volumes: Set<string>): StatusCause[] {
  const list = Array.isArray(spec.ephemeralContainers) ? spec.ephemeralContainers : [];
  if (!list.length) return [];
  const others = new Set<string>();
  for (const key of ['containers', 'initContainers']) for (const c of Array.isArray(spec[key]) ? spec[key] : []) if (typeof c?.name === 'string') others.add(c.name);
  const out: StatusCause[] = [];
  list.forEach((c: any, i: number) => {
    const f = `${field}[${i}]`;
    out.push(...containerErrors(f, c, names, volumes));
    if (!c || typeof c !== 'object') return;
    if (typeof c.targetContainerName === 'string' && c.targetContainerName && !others.has(c.targetContainerName)) {
      out.push({ reason: 'FieldValueNotFound', field: `${f}.targetContainerName`, message: `Not found: ${show(c.targetContainerName)}` });
    }
    for (const key of EPHEMERAL_FORBIDDEN) if (!isZero(c[key])) out.push(forbidden(`${f}.${key}`, 'cannot be set for an Ephemeral Container'));
    (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).forEach((m: any, j: number) => {
      for (const key of ['subPath', 'subPathExpr']) if (m?.[key]) out.push(forbidden(`${f}.volumeMounts[${j}].${key}`, 'cannot be set for an Ephemeral Container'));
    });
  });
  return out;
}

/** Kubernetes' validateLocalDescendingPath: a relative path that never climbs out of the volume. */
export function localDescendingPathErrors(field: string, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (path.startsWith('/')) out.push(invalid(field, path, 'must be a relative path'));
  if (path.split(/[\\/]/).includes('..')) out.push(invalid(field, path, "must not contain '..'"));
  return out;
}

/** Kubernetes' validateProjectionSources for ServiceAccount tokens: a lifetime of 10 minutes to 2^32 s, a relative path. */
function tokenProjectionErrors(field: string, projected: any): StatusCause[] {
  const out: StatusCause[] = [];
  (Array.isArray(projected?.sources) ? projected.sources : []).forEach((source: any, i: number) => {
    const token = source?.serviceAccountToken;
    if (!token || typeof token !== 'object') return;
    const f = `${field}.sources[${i}].serviceAccountToken`;
    const seconds = token.expirationSeconds ?? 3600;
    if (typeof seconds === 'number' && seconds < 600) out.push(invalid(`${f}.expirationSeconds`, seconds, 'may not specify a duration less than 10 minutes'));
    if (typeof seconds === 'number' && seconds > 2 ** 32) out.push(invalid(`${f}.expirationSeconds`, seconds, 'may not specify a duration larger than 2^32 seconds'));
    if (!token.path) out.push(required(`${f}.path`));
    else if (typeof token.path === 'string' && (token.path.startsWith('/') || token.path.split('/').includes('..'))) out.push(invalid(`${f}.path`, token.path, token.path.startsWith('/') ? 'must be a relative path' : "must not contain '..'"));
  });
  return out;
}

export function podSpecErrors(field: string, spec: any): StatusCause[] {
  const out: StatusCause[] = [];
  if (!spec || typeof spec !== 'object') return [required(field)];
  const volumes = new Set<string>();
  (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v: any, i: number) => {
    if (typeof v?.name !== 'string') return;
    out.push(...dnsLabelErrors(`${field}.volumes[${i}].name`, v.name));
    if (volumes.has(v.name)) out.push(duplicate(`${field}.volumes[${i}].name`, v.name));
    volumes.add(v.name);
    out.push(...tokenProjectionErrors(`${field}.volumes[${i}].projected`, v.projected));
  });
  const names = new Set<string>();
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) out.push(required(`${field}.containers`));
  (Array.isArray(spec.initContainers) ? spec.initContainers : []).forEach((c: any, i: number) => out.push(...containerErrors(`${field}.initContainers[${i}]`, c, names, volumes)));
  (Array.isArray(spec.containers) ? spec.containers : []).forEach((c: any, i: number) => out.push(...containerErrors(`${field}.containers[${i}]`, c, names, volumes)));
  out.push(...ephemeralContainerErrors(`${field}.ephemeralContainers`, spec, names, volumes));
  out.push(...labelErrors(`${field}.nodeSelector`, spec.nodeSelector), ...podSelectorErrors(field, spec));
  for (const key of ['hostname', 'subdomain']) if (typeof spec[key] === 'string' && spec[key]) out.push(...dnsLabelErrors(`${field}.${key}`, spec[key]));
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName) out.push(...dnsSubdomainErrors(`${field}.serviceAccountName`, spec.serviceAccountName));
  (Array.isArray(spec.hostAliases) ? spec.hostAliases : []).forEach((a: any, i: number) => {
    if (typeof a?.ip === 'string' && !isIP(a.ip)) out.push(invalid(`${field}.hostAliases[${i}].ip`, a.ip, VALID_IP));
    (Array.isArray(a?.hostnames) ? a.hostnames : []).forEach((h: unknown, j: number) => {
      if (typeof h === 'string') out.push(...dnsSubdomainErrors(`${field}.hostAliases[${i}].hostnames[${j}]`, h));
    });
  });
  out.push(...dnsConfigErrors(`${field}.dnsConfig`, spec.dnsConfig));
  (Array.isArray(spec.tolerations) ? spec.tolerations : []).forEach((t: any, i: number) => {
    if (t?.operator === 'Exists' && t.value) out.push(invalid(`${field}.tolerations[${i}].operator`, t.operator, 'value must be empty when `operator` is \'Exists\''));
    if (!t?.key && t?.operator !== 'Exists') out.push(invalid(`${field}.tolerations[${i}].operator`, t?.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
  });
  return out;
}

const VALID_IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';
const MAX_DNS_NAMESERVERS = 3;
const MAX_DNS_SEARCH_PATHS = 32;

/** Kubernetes' validatePodDNSConfig: at most 3 nameservers, each an IP; at most 32 search domains, each a DNS subdomain. */
function dnsConfigErrors(field: string, config: any): StatusCause[] {
  const out: StatusCause[] = [];
  const nameservers: unknown[] = Array.isArray(config?.nameservers) ? config.nameservers : [];
  const searches: unknown[] = Array.isArray(config?.searches) ? config.searches : [];
  if (nameservers.length > MAX_DNS_NAMESERVERS) out.push(invalid(`${field}.nameservers`, nameservers.join(','), `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`));
  nameservers.forEach((ns, i) => {
    if (typeof ns === 'string' && !isIP(ns)) out.push(invalid(`${field}.nameservers[${i}]`, ns, VALID_IP));
  });
  if (searches.length > MAX_DNS_SEARCH_PATHS) out.push(invalid(`${field}.searches`, searches.join(','), `must not have more than ${MAX_DNS_SEARCH_PATHS} search paths`));
  searches.forEach((search, i) => {
    // A search domain may end in a dot (it is then absolute).
    if (typeof search === 'string') out.push(...dnsSubdomainErrors(`${field}.searches[${i}]`, search.endsWith('.') ? search.slice(0, -1) : search));
  });
  return out;
}

/** The label selectors a pod spec picks other pods by: of topology spread constraints, and of pod (anti-)affinity terms. */
function podSelectorErrors(field: string, spec: any): StatusCause[] {
  const out: StatusCause[] = [];
  const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);
  list(spec.topologySpreadConstraints).forEach((c, i) => out.push(...labelSelectorErrors(`${field}.topologySpreadConstraints[${i}].labelSelector`, c?.labelSelector)));
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const affinity = spec.affinity?.[kind];
    const terms: [string, any][] = [
      ...list(affinity?.requiredDuringSchedulingIgnoredDuringExecution).map((t, i): [string, any] => [`requiredDuringSchedulingIgnoredDuringExecution[${i}]`, t]),
      ...list(affinity?.preferredDuringSchedulingIgnoredDuringExecution).map((t, i): [string, any] => [`preferredDuringSchedulingIgnoredDuringExecution[${i}].podAffinityTerm`, t?.podAffinityTerm]),
    ];
    for (const [at, term] of terms) {
      const f = `${field}.affinity.${kind}.${at}`;
      out.push(...labelSelectorErrors(`${f}.labelSelector`, term?.labelSelector), ...labelSelectorErrors(`${f}.namespaceSelector`, term?.namespaceSelector));
    }
  }
  return out;
}

// ---- workloads -------------------------------------------------------------------------

/** A workload's selector: required, and a valid label selector. */
export function selectorErrors(field: string, selector: any): StatusCause[] {
  if (!selector || (!Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length)) return [required(field)];
  return labelSelectorErrors(field, selector);
}

/** Kubernetes' ValidateLabelSelector (an empty or absent selector is one): its labels, and each expression's operator and values. */
export function labelSelectorErrors(field: string, selector: any): StatusCause[] {
  const out: StatusCause[] = [];
  if (!selector || typeof selector !== 'object') return out;
  out.push(...labelErrors(`${field}.matchLabels`, selector.matchLabels));
  (selector.matchExpressions ?? []).forEach((e: any, i: number) => {
    const f = `${field}.matchExpressions[${i}]`;
    if ((e.operator === 'In' || e.operator === 'NotIn') && !(e.values ?? []).length) out.push(required(`${f}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && (e.values ?? []).length) out.push(forbidden(`${f}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
  });
  return out;
}

export function goMap(labels: Record<string, string>): string {
  return `map[string]string{${Object.keys(labels).sort().map((k) => `"${k}":"${labels[k]}"`).join(', ')}}`;
}

export function templateErrors(field: string, spec: any, restartPolicies: string[]): StatusCause[] {
  const out: StatusCause[] = [];
  const template = spec?.template;
  if (!template || typeof template !== 'object') return [required(`${field}.template`)];
  const labels = template.metadata?.labels ?? {};
  out.push(...labelErrors(`${field}.template.metadata.labels`, labels));
  if (spec.selector && selectorErrors(`${field}.selector`, spec.selector).length === 0 && !selectorMatches(spec.selector, labels)) {
    out.push({ reason: 'FieldValueInvalid', field: `${field}.template.metadata.labels`, message: `Invalid value: ${goMap(labels)}: \`selector\` does not match template \`labels\`` });
  }
  out.push(...podSpecErrors(`${field}.template.spec`, template.spec));
  const policy = template.spec?.restartPolicy;
  if (policy !== undefined && !restartPolicies.includes(policy)) out.push(unsupported(`${field}.template.spec.restartPolicy`, policy, restartPolicies));
  return out;
}

export function intOrPercent(field: string, v: unknown): { causes: StatusCause[]; zero: boolean } {
  if (v === undefined) return { causes: [], zero: false };
  if (typeof v === 'number') return { causes: v < 0 ? [invalid(field, v, 'must be greater than or equal to 0')] : [], zero: v === 0 };
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) return { causes: [invalid(field, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")], zero: false };
  if (Number(m[1]) > 100) return { causes: [invalid(field, v, 'must not be greater than 100%')], zero: false };
  return { causes: [], zero: Number(m[1]) === 0 };
}

/** A rolling update's maxSurge and maxUnavailable (Deployments, DaemonSets): int or percent, not both zero. */
export function rollingUpdateErrors(field: string, rollingUpdate: any): StatusCause[] {
  const surge = intOrPercent(`${field}.maxSurge`, rollingUpdate.maxSurge);
  const unavailable = intOrPercent(`${field}.maxUnavailable`, rollingUpdate.maxUnavailable);
  const out = [...surge.causes, ...unavailable.causes];
  if (surge.zero && unavailable.zero) out.push(invalid(`${field}.maxUnavailable`, rollingUpdate.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  return out;
}

/** A field that may not change once set (a workload's selector). */
export function immutableErrors(field: string, value: unknown, old: unknown): StatusCause[] {
  return old !== undefined && JSON.stringify(old) !== JSON.stringify(value) ? [invalid(field, value, 'field is immutable')] : [];
}

export function jobErrors(field: string, spec: any): StatusCause[] {
  const out = templateErrors(field, spec, ['OnFailure', 'Never']);
  if (spec?.template?.spec && spec.template.spec.restartPolicy === undefined) out.push(required(`${field}.template.spec.restartPolicy`, 'valid values: "OnFailure", "Never"'));
  return out;
}

// ---- services --------------------------------------------------------------------------

/** Kubernetes' IsValidPortNum: 1..65535. */
export function portNumErrors(field: string, value: unknown): StatusCause[] {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535 ? [] : [invalid(field, value, 'must be between 1 and 65535, inclusive')];
}

/** Kubernetes' IsValidPortName (an IANA_SVC_NAME): one cause per rule broken. */
export function portNameErrors(field: string, name: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (name.length > 15) out.push(invalid(field, name, 'must be no more than 15 characters'));
  if (!/^[-a-z0-9]+$/.test(name)) out.push(invalid(field, name, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'));
  if (!/[a-z]/.test(name)) out.push(invalid(field, name, 'must contain at least one letter (a-z)'));
  if (name.includes('--')) out.push(invalid(field, name, 'must not contain consecutive hyphens'));
  if (name.startsWith('-') || name.endsWith('-')) out.push(invalid(field, name, 'must not begin or end with a hyphen'));
  return out;
}

// ---- endpoint addresses ----------------------------------------------------------------

export const tooMany = (field: string, actual: number, max: number): StatusCause => ({ reason: 'FieldValueTooMany', field, message: `Too many: ${actual}: must have at most ${max} items` });

const SPECIAL_ENDPOINT_IPS: [BlockList, string][] = (() => {
  const ranges = (...subnets: [string, number, 'ipv4' | 'ipv6'][]) => {
    const list = new BlockList();
    for (const [net, prefix, family] of subnets) list.addSubnet(net, prefix, family);
    return list;
  };
  return [
    [ranges(['0.0.0.0', 32, 'ipv4'], ['::', 128, 'ipv6']), 'may not be unspecified'],
    [ranges(['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']), 'may not be in the loopback range (127.0.0.0/8, ::1/128)'],
    [ranges(['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']), 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
    [ranges(['224.0.0.0', 24, 'ipv4'], ['ff02::', 16, 'ipv6']), 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'],
  ];
})();

/** Kubernetes' IsValidIPv4Address / IsValidIPv6Address (of the family, when one is given), then ValidateEndpointIP. */
export function endpointIpErrors(field: string, address: string, family?: 4 | 6): StatusCause[] {
  const out: StatusCause[] = [];
  if (family && isIP(address) !== family) out.push(invalid(field, address, `must be a valid IPv${family} address`));
  if (!isIP(address)) return [...out, invalid(field, address, 'must be a valid IP address')];
  const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
  for (const [range, why] of SPECIAL_ENDPOINT_IPS) {
    if (range.check(address, type)) out.push(invalid(field, address, why === 'may not be unspecified' ? `${why} (${address})` : why));
  }
  return out;
}

/**
 * An endpoint address inside the Service IP range (a cluster IP) would make a Service forward to
 * another Service's virtual address — or, through the node's proxy, to what that one reaches —
 * so it is refused, as loopback and link-local are.
 */
export function serviceRangeErrors(field: string, address: string, serviceCidr: string): StatusCause[] {
  const [net, bits] = serviceCidr.split('/');
  const type = isIP(net) === 6 ? 'ipv6' : 'ipv4';
  if (isIP(address) !== isIP(net)) return [];
  const range = new BlockList();
  range.addSubnet(net, Number(bits), type);
  return range.check(address, type) ? [invalid(field, address, `may not be in the service IP range (${serviceCidr})`)] : [];
}

/** Kubernetes' IsFullyQualifiedDomainName. */
export function fqdnErrors(field: string, value: string): StatusCause[] {
  if (!value) return [required(field)];
  const name = value.replace(/\.$/, '');
  const subdomain = dnsSubdomainErrors(field, name);
  if (subdomain.length) return subdomain;
  const labels = name.split('.');
  if (labels.length < 2) return [invalid(field, name, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const errs = dnsLabelErrors(field, label);
    if (errs.length) return errs;
  }
  return [];
}
