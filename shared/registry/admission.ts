// The write path's admission, the same for every writer (API, controllers, agents), as Kubernetes'
// generic registry store runs it around each kind's strategy (rest.BeforeCreate, BeforeUpdate):
// the structural check first (so nothing is defaulted or computed on a value of the wrong type),
// then the kind's defaults, its preparation of a create or an update, and its validation. Pure:
// what reads the cluster (strategy.admit) and what writes is the store's.
import type { KubeObject, StatusCause } from '../types.ts';
import { BadRequestError, InvalidError } from '../errors.ts';
import { metadataErrors, required, structuralErrors } from '../api/validation.ts';
import type { AdmissionSettings, Conversion, CreateOnlyKind, Requester, Strategy } from './strategy.ts';
import { strategyForKind } from './registry.ts';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export interface AdmissionOptions {
  /** What to do with unknown fields: prune silently, prune and warn, or refuse (400). */
  fieldValidation?: FieldValidation;
  /** The object is a decoded request body (create, replace): a strict refusal names the decoder, as Kubernetes'. */
  decoded?: boolean;
  /** Receives the warnings of this write (unknown fields under Warn). */
  warnings?: string[];
  /** The API client the write is made for (RBAC's escalation checks read it); none for Wharf's own writes. */
  requester?: Requester;
}

/** The settings of a cluster with Kubernetes' defaults, for writers that configure none (tests, tools). */
export const DEFAULT_ADMISSION: AdmissionSettings = {
  serviceCidr: '10.96.0.0/16',
  nodePortRange: '30000-32767',
  podEvictionTolerationSeconds: 300,
  podSecurity: {
    defaults: { enforce: { level: 'baseline', version: 'latest' }, audit: { level: 'privileged', version: 'latest' }, warn: { level: 'baseline', version: 'latest' } },
    exemptNamespaces: ['kube-system'],
  },
};

function nameOf(obj: KubeObject): string {
  return obj.metadata?.name ?? obj.metadata?.generateName ?? '';
}

function refuse(s: Pick<Strategy, 'resource'>, obj: KubeObject, causes: StatusCause[]): never {
  throw new InvalidError(s.resource.kind, nameOf(obj), dedupe(causes), s.resource.group);
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

/**
 * Unknown fields pruned (a warning, or under Strict a 400 as Kubernetes' strict decoder words it),
 * then types, required fields and enumerations: a 422 before anything else looks at the object.
 */
function checkStructure(s: Pick<Strategy, 'schema' | 'resource' | 'structure'>, obj: KubeObject, opts: AdmissionOptions): void {
  if (!s.schema && !s.structure) return;
  const { causes, unknownFields } = s.structure ? s.structure(obj) : structuralErrors(s.schema!, obj);
  const validation = opts.fieldValidation ?? 'Ignore';
  if (unknownFields.length && validation === 'Strict') {
    const prefix = opts.decoded ? `${s.resource.kind} in version "${s.resource.version}" cannot be handled as a ${s.resource.kind}: ` : '';
    const messages = unknownFields.map((f) => `unknown field "${f}"`);
    throw new BadRequestError(`${prefix}strict decoding error: ${messages.join(', ')}`, unknownFields.map((f) => ({ reason: 'FieldValueInvalid', message: `unknown field "${f}"`, field: f })));
  }
  if (validation === 'Warn') opts.warnings?.push(...unknownFields.map((f) => `unknown field "${f}"`));
  if (causes.length) refuse(s, obj, causes);
}

/** Kubernetes' ValidateObjectMeta with the kind's name rule, and the kind's own validation. */
function objectErrors(s: Strategy, obj: KubeObject): StatusCause[] {
  const meta = obj.metadata;
  const out: StatusCause[] = [];
  if (!meta.name && !meta.generateName) out.push(required('metadata.name', 'name or generateName is required'));
  if (typeof meta.generateName === 'string' && meta.generateName) out.push(...s.nameErrors('metadata.generateName', meta.generateName, true));
  if (typeof meta.name === 'string' && meta.name) out.push(...s.nameErrors('metadata.name', meta.name, false));
  out.push(...metadataErrors(meta), ...s.validate(obj));
  return out;
}

/**
 * A new object as the store will write it, but for what admission reads from the cluster: checked,
 * defaulted, prepared (status reset, selectors generated) and validated. `obj` already carries its
 * system metadata (uid, name from generateName, creationTimestamp). Mutates obj; throws a 4xx.
 */
export function admitCreate(s: Strategy, obj: KubeObject, settings: AdmissionSettings, opts: AdmissionOptions = {}): void {
  checkStructure(s, obj, opts);
  s.defaults(obj, settings);
  s.prepareForCreate(obj);
  const causes = [...objectErrors(s, obj), ...(s.validateCreate?.(obj) ?? [])];
  if (causes.length) refuse(s, obj, causes);
}

/**
 * An update of the main resource: `obj` is what the writer wants, already merged with the stored
 * object's system metadata and status (the store's merge). Checked, defaulted, prepared against
 * `old` (fields a type change leaves behind), validated with the update-only rules.
 */
export function admitUpdate(s: Strategy, obj: KubeObject, old: KubeObject, settings: AdmissionSettings, opts: AdmissionOptions = {}): void {
  checkStructure(s, obj, opts);
  s.defaults(obj, settings);
  s.prepareForUpdate(obj, old);
  const causes = [...objectErrors(s, obj), ...s.validateUpdate(obj, old)];
  if (causes.length) {
    // Ratcheting: what the stored object already breaks (stored before a rule existed) does not
    // block an update that leaves it so, or its finalizers could never be removed.
    const before = new Set(objectErrors(s, old).map((c) => `${c.field}|${c.message}`));
    const introduced = causes.filter((c) => !before.has(`${c.field}|${c.message}`));
    if (introduced.length) refuse(s, obj, introduced);
  }
}

/**
 * A write through a subresource that changes one part of the object (pods/ephemeralcontainers):
 * `obj` is the stored object with that part taken from the writer. Checked, defaulted and
 * validated as the kind, with the subresource's rules instead of the main update's.
 */
export function admitPartialUpdate(s: Strategy, subresource: string, obj: KubeObject, old: KubeObject, settings: AdmissionSettings, opts: AdmissionOptions = {}): void {
  const write = s.partialWrites?.[subresource];
  if (!write) throw new BadRequestError(`${s.resource.plural}/${subresource} does not write`);
  checkStructure(s, obj, opts);
  s.defaults(obj, settings);
  const causes = [...objectErrors(s, obj), ...write.validateUpdate(obj, old)];
  if (causes.length) {
    const before = new Set(objectErrors(s, old).map((c) => `${c.field}|${c.message}`));
    const introduced = causes.filter((c) => !before.has(`${c.field}|${c.message}`));
    if (introduced.length) refuse(s, obj, introduced);
  }
}

/**
 * A write through the status subresource: only the status changed, and only its types are
 * checked. A custom resource is validated whole, as Kubernetes' status strategy for custom
 * resources does: its schema, then its CEL rules (transition rules against `old`), what `old`
 * already broke ratcheted as in admitUpdate.
 */
export function admitStatusUpdate(s: Strategy, obj: KubeObject, old?: KubeObject, opts: AdmissionOptions = {}): void {
  if (s.structure) {
    const { causes } = s.structure(obj);
    if (causes.length) refuse(s, obj, causes);
    const rules = [...s.validate(obj), ...(old ? s.validateUpdate(obj, old) : [])];
    const before = new Set(old ? s.validate(old).map((c) => `${c.field}|${c.message}`) : []);
    const introduced = rules.filter((c) => !before.has(`${c.field}|${c.message}`));
    if (introduced.length) refuse(s, obj, introduced);
    return;
  }
  const statusSchema = s.schema?.properties?.status;
  if (!statusSchema || obj.status === undefined) return;
  const { causes } = structuralErrors(statusSchema, obj.status);
  if (causes.length) refuse(s, obj, causes.map((c) => ({ ...c, field: c.field ? `status.${c.field}` : 'status' })));
  void opts;
}

/**
 * What a client of another version of a stored kind writes (events.k8s.io/v1 Events): checked
 * against that version's schema and rules, then converted to the stored form, which the stored
 * kind's admission then takes as any write.
 */
export function admitConverted(c: Conversion, obj: KubeObject, opts: AdmissionOptions = {}): KubeObject {
  checkStructure(c, obj, opts);
  const causes = c.validate(obj);
  if (causes.length) refuse(c, obj, causes);
  return c.toStorage(obj);
}

/** The request object of a create-only kind (a TokenReview): its structure and its kind's rules; nothing is stored. */
export function admitCreateOnly(c: CreateOnlyKind, obj: KubeObject, opts: AdmissionOptions = {}): void {
  checkStructure(c, obj, opts);
  const causes = c.validate(obj);
  if (causes.length) refuse(c, obj, causes);
}

/**
 * The structural check, defaults-free validation of a kind's object as a client would send it: for
 * tests and tools that want Kubernetes' verdict on a manifest without writing it.
 */
export function validateObject(kind: string, obj: KubeObject, opts: { old?: KubeObject } = {}): { causes: StatusCause[]; unknownFields: string[] } {
  const s = strategyForKind(kind);
  if (!s) return { causes: [], unknownFields: [] };
  const structural = s.schema ? structuralErrors(s.schema, obj) : { causes: [], unknownFields: [] };
  if (structural.causes.length) return structural;
  const causes = objectErrors(s, obj);
  if (opts.old) causes.push(...s.validateUpdate(obj, opts.old));
  return { causes: dedupe(causes), unknownFields: structural.unknownFields };
}

/** A kind's defaults, for tests and tools. */
export function applyDefaults(kind: string, obj: KubeObject, settings: AdmissionSettings = DEFAULT_ADMISSION): void {
  strategyForKind(kind)?.defaults(obj, settings);
}
