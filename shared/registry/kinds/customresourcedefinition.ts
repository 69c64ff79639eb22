// apiextensions.k8s.io/v1 CustomResourceDefinition (Kubernetes' apiextensions-apiserver:
// pkg/apis/apiextensions/validation, pkg/registry/customresourcedefinition/strategy.go). A CRD makes
// its kind served (shared/registry/custom-resources.ts builds the kind's strategy from it; every
// process that serves or reconciles kinds follows the CRDs, shared/store/custom-kinds-sync.ts).
// Names are accepted and the kind established when the CRD is written, as Kubernetes' naming and
// establishing controllers do a moment later; deleting a CRD marks it Terminating with the
// customresourcecleanup finalizer, and the controller manager's crd-cleanup removes its objects.
import type { KubeObject, StatusCause } from '../../types.ts';
import { objectMeta } from '../../api/schemas.ts';
import { dns1035LabelErrors, dnsSubdomainErrors, duplicate, forbidden, invalid, required, show, unsupported } from '../../api/validation.ts';
import { NAME } from '../../api/printers.ts';
import { compileError, schemaErrors } from '../../api/crd-schema.ts';
import { validationRuleErrors } from '../../api/crd-validation-rules.ts';
import { deepEqual } from '../../util.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo, type ClusterReader } from '../strategy.ts';
import { InvalidError } from '../../errors.ts';

export const CRD_PLURAL = 'customresourcedefinitions';
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

type Schema = Record<string, any>;
const str: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };
const open: Schema = { type: 'object' };
const arr = (items: Schema): Schema => ({ type: 'array', items });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, additionalProperties: false, ...(required.length ? { required } : {}) });
const doc = (description: string, schema: Schema): Schema => ({ ...schema, description });

const names = obj({ plural: str, singular: str, shortNames: arr(str), kind: str, listKind: str, categories: arr(str) });
const version = obj({
  name: doc('The version name (v1, v1beta1): served at /apis/<group>/<version>/...', str),
  served: bool,
  storage: doc('Whether objects are stored in this version (exactly one version is).', bool),
  deprecated: bool,
  deprecationWarning: str,
  schema: obj({ openAPIV3Schema: doc('The structural schema of this version\'s objects.', open) }),
  subresources: obj({
    status: open,
    scale: obj({ specReplicasPath: str, statusReplicasPath: str, labelSelectorPath: str }),
  }),
  additionalPrinterColumns: arr(obj({ name: str, type: str, format: str, description: str, priority: { type: 'integer' }, jsonPath: str })),
  selectableFields: arr(obj({ jsonPath: str })),
});

const SCHEMA: Schema = doc('CustomResourceDefinition represents a resource that should be exposed on the API server.', obj({
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  spec: doc('The kind this definition serves: its group, names, scope and versions.', obj({
    group: doc('The API group of the defined custom resource (a domain with at least one dot).', str),
    names: doc('The resource and kind names of the custom resource.', names),
    scope: doc('Cluster or Namespaced.', str),
    versions: doc('The API versions of the defined custom resource.', arr(version)),
    conversion: obj({ strategy: str, webhook: open }),
    preserveUnknownFields: bool,
  }, ['group', 'names', 'scope', 'versions'])),
  status: { type: 'object', properties: { conditions: arr(open), acceptedNames: open, storedVersions: arr(str) } },
}, ['spec']));

const PRINTER_TYPES = ['integer', 'number', 'string', 'boolean', 'date'];

/** ValidateCustomResourceDefinitionNames. */
function namesErrors(n: any, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  const label = (f: string, v: string) => dns1035LabelErrors(f, v);
  if (!n.plural) out.push(required(`${field}.plural`));
  else out.push(...label(`${field}.plural`, n.plural));
  if (n.singular) out.push(...label(`${field}.singular`, n.singular));
  if (!n.kind) out.push(required(`${field}.kind`));
  else out.push(...label(`${field}.kind`, String(n.kind).toLowerCase()));
  if (!n.listKind) out.push(required(`${field}.listKind`));
  else out.push(...label(`${field}.listKind`, String(n.listKind).toLowerCase()));
  if (n.kind && n.kind === n.listKind) out.push(invalid(`${field}.listKind`, n.listKind, 'kind and listKind may not be the same'));
  (n.shortNames ?? []).forEach((s: string, i: number) => out.push(...label(`${field}.shortNames[${i}]`, s)));
  (n.categories ?? []).forEach((s: string, i: number) => out.push(...label(`${field}.categories[${i}]`, s)));
  return out;
}

function jsonPathErrors(path: unknown, field: string, prefixes: string[]): StatusCause[] {
  if (!path) return [required(field)];
  if (typeof path !== 'string' || !prefixes.some((p) => path.startsWith(p))) return [invalid(field, path, `should start with ${prefixes.join(' or ')}`)];
  return [];
}

function versionErrors(v: any, field: string, seen: Set<string>): StatusCause[] {
  const out: StatusCause[] = [];
  if (!v.name) out.push(required(`${field}.name`));
  else {
    out.push(...dns1035LabelErrors(`${field}.name`, v.name));
    if (seen.has(v.name)) out.push(invalid(`${field}.name`, v.name, 'must be unique'));
    seen.add(v.name);
  }
  const schema = v.schema?.openAPIV3Schema;
  if (!schema) out.push(required(`${field}.schema.openAPIV3Schema`, 'schemas are required'));
  else {
    out.push(...schemaErrors(schema, `${field}.schema.openAPIV3Schema`));
    const bad = compileError(schema);
    if (bad && !out.length) out.push(invalid(`${field}.schema.openAPIV3Schema`, 'object', bad));
  }
  const scale = v.subresources?.scale;
  if (scale) {
    out.push(...jsonPathErrors(scale.specReplicasPath, `${field}.subresources.scale.specReplicasPath`, ['.spec.']));
    out.push(...jsonPathErrors(scale.statusReplicasPath, `${field}.subresources.scale.statusReplicasPath`, ['.status.']));
    if (scale.labelSelectorPath) out.push(...jsonPathErrors(scale.labelSelectorPath, `${field}.subresources.scale.labelSelectorPath`, ['.spec.', '.status.']));
  }
  (v.additionalPrinterColumns ?? []).forEach((c: any, i: number) => {
    const f = `${field}.additionalPrinterColumns[${i}]`;
    if (!c.name) out.push(required(`${f}.name`));
    if (!c.type) out.push(required(`${f}.type`));
    else if (!PRINTER_TYPES.includes(c.type)) out.push(unsupported(`${f}.type`, c.type, PRINTER_TYPES));
    if (!c.jsonPath) out.push(required(`${f}.jsonPath`));
    if (c.priority !== undefined && c.priority < 0) out.push(invalid(`${f}.priority`, c.priority, 'must be greater than or equal to 0'));
  });
  const fields = new Set<string>();
  (v.selectableFields ?? []).forEach((s: any, i: number) => {
    const f = `${field}.selectableFields[${i}].jsonPath`;
    out.push(...jsonPathErrors(s.jsonPath, f, ['.']));
    if (s.jsonPath === '.metadata.name' || s.jsonPath === '.metadata.namespace') out.push(invalid(f, s.jsonPath, 'must not select metadata.name or metadata.namespace: they are always selectable'));
    if (fields.has(s.jsonPath)) out.push(duplicate(f, s.jsonPath));
    fields.add(s.jsonPath);
  });
  return out;
}

/**
 * The CEL rules of every version's schema that do not compile (or are malformed). Named as
 * Kubernetes names them: its internal form hoists a schema all versions share to
 * spec.validation, so a CRD with one schema hears of spec.validation.openAPIV3Schema.
 */
function celRuleErrors(versions: any[]): StatusCause[] {
  const schemas = versions.map((v) => v?.schema?.openAPIV3Schema);
  if (schemas.some((s) => !s || typeof s !== 'object')) return [];
  if (schemas.every((s) => deepEqual(s, schemas[0]))) return validationRuleErrors(schemas[0], 'spec.validation.openAPIV3Schema');
  return schemas.flatMap((s, i) => validationRuleErrors(s, `spec.versions[${i}].schema.openAPIV3Schema`));
}

/** ValidateCustomResourceDefinition (apiextensions validation.go), in its words. */
export function crdErrors(crd: KubeObject): StatusCause[] {
  const spec = crd.spec ?? {};
  const out: StatusCause[] = [];
  const group: string = spec.group ?? '';
  if (!group) out.push(required('spec.group'));
  else {
    out.push(...dnsSubdomainErrors('spec.group', group));
    if (group.split('.').length < 2) out.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  const n = spec.names ?? {};
  if (crd.metadata?.name !== `${n.plural}.${group}`) out.push(invalid('metadata.name', crd.metadata?.name ?? '', 'must be spec.names.plural+"."+spec.group'));
  out.push(...namesErrors(n, 'spec.names'));
  if (!spec.scope) out.push(required('spec.scope'));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') out.push(unsupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  const versions: any[] = Array.isArray(spec.versions) ? spec.versions : [];
  if (!versions.length) out.push(required('spec.versions', 'must have at least one version'));
  else {
    const seen = new Set<string>();
    versions.forEach((v, i) => out.push(...versionErrors(v ?? {}, `spec.versions[${i}]`, seen)));
    out.push(...celRuleErrors(versions));
    const storage = versions.filter((v) => v?.storage).length;
    if (storage !== 1) out.push(invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
    if (!versions.some((v) => v?.served)) out.push(invalid('spec.versions', versions, 'must have at least one version marked as served'));
  }
  const strategy = spec.conversion?.strategy ?? 'None';
  if (strategy === 'Webhook') out.push(forbidden('spec.conversion.strategy', 'conversion webhooks are not supported by this server: use strategy None (the versions then differ only in their apiVersion)'));
  else if (strategy !== 'None') out.push(unsupported('spec.conversion.strategy', strategy, ['None', 'Webhook']));
  if (spec.preserveUnknownFields === true) out.push(invalid('spec.preserveUnknownFields', true, 'must be false in order to use defaults in the schema'));
  return out;
}

function condition(type: string, status: string, reason: string, message: string, nowIso: string) {
  return { type, status, lastTransitionTime: nowIso, reason, message };
}

/** The status Kubernetes' naming and establishing controllers give a CRD whose names are free. */
export function acceptedStatus(crd: KubeObject, old?: KubeObject): Record<string, unknown> {
  const nowIso = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const n = crd.spec?.names ?? {};
  const keep = (c: any) => (old?.status?.conditions ?? []).find((o: any) => o.type === c.type && o.status === c.status && o.reason === c.reason) ?? c;
  const conditions = [
    condition('NamesAccepted', 'True', 'NoConflicts', 'no conflicts found', nowIso),
    condition('Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted', nowIso),
  ].map(keep);
  const terminating = (old?.status?.conditions ?? crd.status?.conditions ?? []).find((c: any) => c.type === 'Terminating');
  if (terminating) conditions.push(terminating);
  const storage = (crd.spec?.versions ?? []).find((v: any) => v?.storage)?.name;
  const stored = new Set<string>([...(old?.status?.storedVersions ?? []), ...(storage ? [storage] : [])]);
  return {
    conditions,
    acceptedNames: { plural: n.plural, singular: n.singular, ...(n.shortNames?.length ? { shortNames: n.shortNames } : {}), kind: n.kind, listKind: n.listKind, ...(n.categories?.length ? { categories: n.categories } : {}) },
    storedVersions: [...stored],
  };
}

/** Whether the controller manager has removed every object of a CRD being deleted. */
export function cleanupDone(crd: KubeObject): boolean {
  return (crd.status?.conditions ?? []).some((c: any) => c.type === 'Terminating' && c.status === 'False' && c.reason === 'InstanceDeletionCompleted');
}

/**
 * Another CRD or a built-in kind already serving this plural: the store keys objects by plural, so
 * two kinds of one plural cannot both be served (Kubernetes would serve both, in their groups).
 */
async function namesConflict(crd: KubeObject, reader: ClusterReader, builtinPlurals: () => Set<string>): Promise<StatusCause | undefined> {
  const plural = crd.spec?.names?.plural;
  if (!plural) return undefined;
  if (builtinPlurals().has(plural)) return invalid('spec.names.plural', plural, 'is already served by a built-in kind of this server, which keys objects by plural: choose another plural');
  const others = (await reader.list(CRD_PLURAL)).items.filter((o) => o.metadata.name !== crd.metadata.name);
  const clash = others.find((o) => o.spec?.names?.plural === plural);
  if (clash) return invalid('spec.names.plural', plural, `is already served by the CustomResourceDefinition ${show(clash.metadata.name)}`);
  const kindClash = others.find((o) => o.spec?.group === crd.spec?.group && o.spec?.names?.kind === crd.spec?.names?.kind);
  if (kindClash) return invalid('spec.names.kind', crd.spec?.names?.kind, `is already in use by the CustomResourceDefinition ${show(kindClash.metadata.name)}`);
  return undefined;
}

/** Built-in plurals, set by the registry (which imports this file, so cannot be imported here). */
let builtins: () => Set<string> = () => new Set();
export function setBuiltinPlurals(f: () => Set<string>): void {
  builtins = f;
}

export const customResourceDefinitionStrategy = defineStrategy({
  resource: resourceInfo({ group: 'apiextensions.k8s.io', plural: CRD_PLURAL, kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'], subresources: ['status'] }),
  schema: SCHEMA,
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  // SetDefaults_CustomResourceDefinition(Spec).
  defaults(crd) {
    const spec = crd.spec;
    if (!spec || typeof spec !== 'object') return;
    spec.conversion ??= { strategy: 'None' };
    spec.conversion.strategy ??= 'None';
    const n = spec.names;
    if (n && typeof n === 'object' && typeof n.kind === 'string') {
      n.singular ??= n.kind.toLowerCase();
      n.listKind ??= `${n.kind}List`;
    }
  },
  prepareForCreate(crd) {
    crd.status = acceptedStatus(crd);
  },
  prepareForUpdate(crd, old) {
    crd.status = acceptedStatus(crd, old);
  },
  validate: crdErrors,
  validateUpdate(crd, old) {
    const out: StatusCause[] = [];
    if (old.spec?.scope && crd.spec?.scope !== old.spec.scope) out.push(invalid('spec.scope', crd.spec?.scope, 'field is immutable'));
    if (old.spec?.group && crd.spec?.group !== old.spec.group) out.push(invalid('spec.group', crd.spec?.group, 'field is immutable'));
    return out;
  },
  async admit(crd, old, ctx) {
    if (old) return;
    const clash = await namesConflict(crd, ctx.reader, builtins);
    if (clash) throw new InvalidError('CustomResourceDefinition', crd.metadata.name ?? '', [clash], 'apiextensions.k8s.io');
  },
  // As the CRD REST's Delete: the first delete adds the cleanup finalizer and says Terminating; the
  // object goes once the controller manager has removed every custom resource of it.
  holdsDeletion: (crd) => !cleanupDone(crd),
  markDeleting(crd) {
    const finalizers = crd.metadata.finalizers ?? [];
    if (!cleanupDone(crd) && !finalizers.includes(CRD_CLEANUP_FINALIZER)) crd.metadata.finalizers = [...finalizers, CRD_CLEANUP_FINALIZER];
    const conditions = (crd.status?.conditions ?? []).filter((c: any) => c.type !== 'Terminating');
    if (!cleanupDone(crd)) {
      conditions.push(condition('Terminating', 'True', 'InstanceDeletionInProgress', 'CustomResource deletion is in progress', new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')));
      crd.status = { ...crd.status, conditions };
    }
  },
  columns: [
    NAME,
    { name: 'Created At', type: 'date', description: 'CreationTimestamp', cell: (o) => o.metadata.creationTimestamp ?? '' },
  ],
});

