// A CustomResourceDefinition's openAPIV3Schema as Kubernetes' apiextensions-apiserver applies it
// to custom resources: structural pruning of unknown fields (pkg/apiserver/schema/pruning),
// defaulting (schema/defaulting), then value validation (kube-openapi's validator, its errors
// turned into field errors by apiserver/validation.kubeOpenAPIResultToFieldErrors), with the list
// types and map keys (schema/listtype). Also the structural-schema rules a CRD's schema must meet
// (apiextensions validation: "must be structural"). Pure: no I/O.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isIP } from 'node:net';
import type { StatusCause } from '../types.ts';
import { isRfc3339Time, pointerToPath, structuralErrors, show } from './validation.ts';
import { objectMeta } from './schemas.ts';

export type JSONSchemaProps = Record<string, any>;

const ajv = new Ajv({ allErrors: true, strict: false, logger: false, validateFormats: true });

/** The formats Kubernetes' CRD validation knows (apiextensions' supportedFormats), each checked as kube-openapi's strfmt does. */
const FORMATS: Record<string, (s: string) => boolean> = {
  'date-time': isRfc3339Time,
  datetime: isRfc3339Time,
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && isRfc3339Time(`${s}T00:00:00Z`),
  uuid: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  byte: (s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0,
  ipv4: (s) => isIP(s) === 4,
  ipv6: (s) => isIP(s) === 6,
  cidr: (s) => { const [ip, bits, ...rest] = s.split('/'); const v = isIP(ip ?? ''); return !rest.length && v > 0 && /^\d+$/.test(bits ?? '') && Number(bits) <= (v === 4 ? 32 : 128); },
  mac: (s) => /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(s),
  hostname: (s) => s.length <= 255 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(s),
  email: (s) => /^[^\s@]+@[^\s@]+$/.test(s),
  uri: (s) => { try { new URL(s); return true; } catch { return false; } },
  duration: (s) => /^(-?\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w))+$/.test(s) || s === '0',
};
for (const [name, validate] of Object.entries(FORMATS)) ajv.addFormat(name, { type: 'string', validate });

// ---- the structural rules a CRD's schema must meet ------------------------------------------

/**
 * Why a CRD's schema is not structural, as apiextensions' validation words it: every node names
 * its type (but where int-or-string or preserve-unknown-fields stand for it), no additionalProperties
 * beside properties, metadata at the root restricted to name and generateName. CEL rules are
 * checked by crd-validation-rules.ts.
 */
export function schemaErrors(schema: JSONSchemaProps, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  walkSchema(schema, field, true, out);
  return out;
}

function walkSchema(s: JSONSchemaProps, field: string, root: boolean, out: StatusCause[]): void {
  if (!s || typeof s !== 'object' || Array.isArray(s)) {
    out.push({ reason: 'FieldValueInvalid', field, message: 'Invalid value: must be an object' });
    return;
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (!s.type && !intOrString && !preserve) out.push({ reason: 'FieldValueRequired', field: `${field}.type`, message: 'Required value: must not be empty for specified object fields' });
  if (s.type && !['object', 'array', 'string', 'integer', 'number', 'boolean'].includes(s.type)) {
    out.push({ reason: 'FieldValueNotSupported', field: `${field}.type`, message: `Unsupported value: ${show(s.type)}: supported values: "array", "boolean", "integer", "number", "object", "string"` });
  }
  if (intOrString && s.type) out.push({ reason: 'FieldValueForbidden', field: `${field}.type`, message: 'Forbidden: must be empty if x-kubernetes-int-or-string is true' });
  if (embedded && s.type !== 'object') out.push({ reason: 'FieldValueInvalid', field: `${field}.type`, message: `Invalid value: ${show(s.type ?? '')}: must be object if x-kubernetes-embedded-resource is true` });
  if (s.properties && s.additionalProperties !== undefined && s.additionalProperties !== true) {
    out.push({ reason: 'FieldValueForbidden', field: `${field}.additionalProperties`, message: 'Forbidden: additionalProperties and properties are mutual exclusive' });
  }
  if (s.additionalProperties === false) out.push({ reason: 'FieldValueForbidden', field: `${field}.additionalProperties`, message: 'Forbidden: must not be used in structural schemas' });
  if (s.type === 'array' && !s.items) out.push({ reason: 'FieldValueRequired', field: `${field}.items`, message: 'Required value: must be specified' });
  if (s.$ref !== undefined) out.push({ reason: 'FieldValueForbidden', field: `${field}.$ref`, message: 'Forbidden: $ref is not supported' });
  const listType = s['x-kubernetes-list-type'];
  if (listType !== undefined) {
    if (!['atomic', 'set', 'map'].includes(listType)) out.push({ reason: 'FieldValueNotSupported', field: `${field}.x-kubernetes-list-type`, message: `Unsupported value: ${show(listType)}: supported values: "atomic", "set", "map"` });
    if (s.type !== 'array') out.push({ reason: 'FieldValueInvalid', field: `${field}.type`, message: `Invalid value: ${show(s.type ?? '')}: must be array if x-kubernetes-list-type is specified` });
    if (listType === 'map') {
      const keys: unknown = s['x-kubernetes-list-map-keys'];
      if (!Array.isArray(keys) || !keys.length) out.push({ reason: 'FieldValueRequired', field: `${field}.x-kubernetes-list-map-keys`, message: 'Required value: must not be empty if x-kubernetes-list-type is map' });
      else for (const k of keys) {
        const item = s.items?.properties?.[k];
        if (!item) out.push({ reason: 'FieldValueRequired', field: `${field}.items.properties`, message: `Required value: entries for all x-kubernetes-list-map-keys are required (${k})` });
      }
    }
  }
  if (root) {
    const meta = s.properties?.metadata;
    if (meta) {
      const extra = Object.keys(meta.properties ?? {}).filter((k) => k !== 'name' && k !== 'generateName');
      if (meta.type !== 'object' || extra.length || meta.additionalProperties !== undefined) {
        out.push({ reason: 'FieldValueForbidden', field: `${field}.properties[metadata]`, message: 'Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified' });
      }
    }
    if (s.type !== 'object' && s.type !== undefined) out.push({ reason: 'FieldValueInvalid', field: `${field}.type`, message: `Invalid value: ${show(s.type)}: must be object at the root` });
  }
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    if (root && k === 'metadata') continue;
    walkSchema(v as JSONSchemaProps, `${field}.properties[${k}]`, false, out);
  }
  if (s.items) {
    if (Array.isArray(s.items)) out.push({ reason: 'FieldValueForbidden', field: `${field}.items`, message: 'Forbidden: items must be a schema object and not an array' });
    else walkSchema(s.items, `${field}.items`, false, out);
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') walkSchema(s.additionalProperties, `${field}.additionalProperties`, false, out);
}

// ---- pruning --------------------------------------------------------------------------------

const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

/** ObjectMeta pruned to its own fields (what Kubernetes' decoder keeps of an embedded or root metadata). */
function pruneMeta(value: unknown, path: string, unknown: string[]): void {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return;
  for (const f of structuralErrors(objectMeta, value).unknownFields) unknown.push(join(path, f));
}

/**
 * Drops the fields the schema does not specify (Kubernetes' structural pruning), listing them for
 * fieldValidation: apiVersion, kind and metadata are always kept at the root and in embedded resources.
 */
export function prune(schema: JSONSchemaProps | undefined, value: any, path: string, unknown: string[], isRoot = false): void {
  if (!schema || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (schema.items && typeof schema.items === 'object') value.forEach((v, i) => prune(schema.items, v, join(path, i), unknown));
    return;
  }
  const resourceLike = isRoot || schema['x-kubernetes-embedded-resource'] === true;
  const props: Record<string, JSONSchemaProps> = schema.properties ?? {};
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  for (const key of Object.keys(value)) {
    if (resourceLike && (key === 'apiVersion' || key === 'kind')) continue;
    if (resourceLike && key === 'metadata') {
      pruneMeta(value[key], join(path, key), unknown);
      continue;
    }
    if (key in props) prune(props[key], value[key], join(path, key), unknown);
    else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') prune(schema.additionalProperties, value[key], join(path, key), unknown);
    else if (!preserve && schema.additionalProperties !== true) {
      unknown.push(join(path, key));
      delete value[key];
    }
  }
}

// ---- defaulting -----------------------------------------------------------------------------

/** Kubernetes' structural defaulting: a missing field (or a null one that is not nullable) takes its default, depth first. */
export function applyDefaults(schema: JSONSchemaProps | undefined, value: any): void {
  if (!schema || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (schema.items && typeof schema.items === 'object') for (const v of value) applyDefaults(schema.items, v);
    return;
  }
  for (const [key, prop] of Object.entries<JSONSchemaProps>(schema.properties ?? {})) {
    if (value[key] === null && !prop.nullable && prop.default !== undefined) delete value[key];
    if (!(key in value) && prop.default !== undefined) value[key] = structuredClone(prop.default);
    applyDefaults(prop, value[key]);
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    for (const key of Object.keys(value)) if (!(schema.properties && key in schema.properties)) applyDefaults(schema.additionalProperties, value[key]);
  }
}

// ---- value validation -----------------------------------------------------------------------

/** The schema as ajv (draft-07) reads it: OpenAPI 3.0's nullable, int-or-string and exclusive bounds translated. */
function toAjv(s: JSONSchemaProps): JSONSchemaProps {
  if (!s || typeof s !== 'object') return s;
  const out: JSONSchemaProps = {};
  for (const [k, v] of Object.entries(s)) {
    switch (k) {
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(v as Record<string, JSONSchemaProps>).map(([name, p]) => [name, toAjv(p)]));
        break;
      case 'items':
      case 'not':
        out[k] = toAjv(v);
        break;
      case 'additionalProperties':
        out[k] = typeof v === 'object' ? toAjv(v) : v;
        break;
      case 'allOf': case 'anyOf': case 'oneOf':
        out[k] = (v as JSONSchemaProps[]).map(toAjv);
        break;
      case 'format':
        // Only the formats Wharf checks reach ajv; the rest (int32, password...) check nothing, as in Kubernetes.
        if (FORMATS[v as string]) out.format = v;
        break;
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
      case 'default': case 'description': case 'example': case 'externalDocs': case 'title': case 'nullable':
        break;
      default:
        if (!k.startsWith('x-kubernetes-')) out[k] = v;
    }
  }
  if (s.exclusiveMinimum === true && s.minimum !== undefined) { out.exclusiveMinimum = s.minimum; delete out.minimum; }
  if (s.exclusiveMaximum === true && s.maximum !== undefined) { out.exclusiveMaximum = s.maximum; delete out.maximum; }
  if (s['x-kubernetes-int-or-string']) out.type = ['integer', 'string'];
  if (s.nullable && out.type) out.type = [...[out.type].flat(), 'null'];
  if (s.nullable && Array.isArray(out.enum)) out.enum = [...out.enum, null];
  return out;
}

/** A value's type as kube-openapi names it in "must be of type integer: \"string\"". */
function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** One ajv error as kubeOpenAPIResultToFieldErrors words it. */
function fieldError(e: ErrorObject, obj: unknown): StatusCause | undefined {
  const base = pointerToPath(e.instancePath);
  const value = e.instancePath.split('/').slice(1).reduce<any>((v, k) => v?.[k.replaceAll('~1', '/').replaceAll('~0', '~')], obj);
  const p = e.params as any;
  const inBody = (field: string) => `${field || '<nil>'} in body`;
  const bad = (field: string, shown: unknown, why: string): StatusCause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(shown)}: ${why}` });
  switch (e.keyword) {
    case 'required': {
      const field = join(base, p.missingProperty);
      return { reason: 'FieldValueRequired', field, message: 'Required value' };
    }
    case 'type': {
      const want = [p.type].flat().filter((t: string) => t !== 'null');
      const shownType = typeName(value);
      return bad(base, shownType, `${inBody(base)} must be of type ${want.join(',')}: ${JSON.stringify(shownType)}`);
    }
    case 'enum':
      return { reason: 'FieldValueNotSupported', field: base, message: `Unsupported value: ${show(value)}: supported values: ${(p.allowedValues as unknown[]).filter((v) => v !== null).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'minimum':
      return bad(base, value, `${inBody(base)} should be greater than or equal to ${p.limit}`);
    case 'maximum':
      return bad(base, value, `${inBody(base)} should be less than or equal to ${p.limit}`);
    case 'exclusiveMinimum':
      return bad(base, value, `${inBody(base)} should be greater than ${p.limit}`);
    case 'exclusiveMaximum':
      return bad(base, value, `${inBody(base)} should be less than ${p.limit}`);
    case 'multipleOf':
      return bad(base, value, `${inBody(base)} should be a multiple of ${p.multipleOf}`);
    case 'pattern':
      return bad(base, value, `${inBody(base)} should match '${p.pattern}'`);
    case 'format':
      return bad(base, value, `${inBody(base)} must be of type ${p.format}: ${JSON.stringify(value)}`);
    case 'maxLength':
      return { reason: 'FieldValueTooLong', field: base, message: `Too long: may not be longer than ${p.limit}` };
    case 'minLength':
      return bad(base, value, `${inBody(base)} should be at least ${p.limit} chars long`);
    case 'maxItems':
      return { reason: 'FieldValueTooMany', field: base, message: `Too many: ${Array.isArray(value) ? value.length : 0}: must have at most ${p.limit} items` };
    case 'minItems':
      return bad(base, value, `${inBody(base)} should have at least ${p.limit} items`);
    case 'uniqueItems':
      return { reason: 'FieldValueDuplicate', field: base, message: `Duplicate value: ${show(Array.isArray(value) ? value[p.j] : value)}` };
    case 'maxProperties':
      return { reason: 'FieldValueTooMany', field: base, message: `Too many: ${value && typeof value === 'object' ? Object.keys(value).length : 0}: must have at most ${p.limit} items` };
    case 'minProperties':
      return bad(base, value, `${inBody(base)} should have at least ${p.limit} properties`);
    case 'additionalProperties':
      return undefined; // pruned before validation
    case 'anyOf': case 'oneOf': case 'allOf': case 'not':
      return bad(base, value, `${inBody(base)} ${e.message ?? 'is invalid'}`);
    default:
      return bad(base, value, e.message ?? 'invalid');
  }
}

/** x-kubernetes-list-type set and map: no two items (or no two items' keys) alike. */
function listTypeErrors(s: JSONSchemaProps | undefined, value: any, path: string, out: StatusCause[]): void {
  if (!s || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    const listType = s['x-kubernetes-list-type'];
    if (listType === 'set' || listType === 'map') {
      const keys: string[] = s['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const key = listType === 'set' ? JSON.stringify(item) : JSON.stringify(Object.fromEntries(keys.map((k) => [k, item?.[k] ?? s.items?.properties?.[k]?.default ?? null])));
        if (seen.has(key)) {
          out.push({ reason: 'FieldValueDuplicate', field: join(path, i), message: `Duplicate value: ${listType === 'set' ? show(item) : key}` });
        }
        seen.add(key);
      });
    }
    value.forEach((v, i) => listTypeErrors(s.items, v, join(path, i), out));
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const p = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    listTypeErrors(p, v, join(path, k), out);
  }
}

/** What an embedded resource must carry (Kubernetes' validateEmbeddedResource). */
function embeddedErrors(s: JSONSchemaProps | undefined, value: any, path: string, out: StatusCause[]): void {
  if (!s || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => embeddedErrors(s.items, v, join(path, i), out));
    return;
  }
  if (s['x-kubernetes-embedded-resource'] === true) {
    if (!value.apiVersion) out.push({ reason: 'FieldValueRequired', field: join(path, 'apiVersion'), message: 'Required value: must not be empty' });
    if (!value.kind) out.push({ reason: 'FieldValueRequired', field: join(path, 'kind'), message: 'Required value: must not be empty' });
  }
  for (const [k, v] of Object.entries(value)) {
    const p = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    embeddedErrors(p, v, join(path, k), out);
  }
}

const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: JSONSchemaProps): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    // The root's metadata is ObjectMeta, checked by the metadata rules; the schema says nothing of it here.
    const { metadata: _m, ...properties } = schema.properties ?? {};
    compiled.set(schema, (v = ajv.compile(toAjv({ ...schema, properties }))));
  }
  return v;
}

/** The value errors of a custom resource against its version's schema, as Kubernetes reports them. */
export function valueErrors(schema: JSONSchemaProps, obj: unknown): StatusCause[] {
  const out: StatusCause[] = [];
  const validate = validatorFor(schema);
  if (!validate(obj)) for (const e of validate.errors ?? []) {
    const c = fieldError(e, obj);
    if (c) out.push(c);
  }
  listTypeErrors(schema, obj, '', out);
  embeddedErrors(schema, obj, '', out);
  return out;
}

/**
 * A custom resource as the API server decodes and validates it: unknown fields pruned (and
 * listed), defaults applied, then its values checked. Mutates obj.
 */
export function admitCustom(schema: JSONSchemaProps | undefined, obj: any): { causes: StatusCause[]; unknownFields: string[] } {
  const unknownFields: string[] = [];
  if (!schema) return { causes: [], unknownFields };
  prune(schema, obj, '', unknownFields, true);
  applyDefaults(schema, obj);
  return { causes: valueErrors(schema, obj), unknownFields };
}

/** Whether a schema compiles (a pattern that is no regular expression, a bad default). */
export function compileError(schema: JSONSchemaProps): string | undefined {
  try {
    validatorFor(schema);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
