// The kind a CustomResourceDefinition defines, as a strategy like any built-in kind's (Kubernetes'
// apiextensions-apiserver customresource strategy): the storage version is the stored kind, every
// other served version a Conversion that only rewrites apiVersion (conversion strategy None).
// Validation is the version's openAPIV3Schema (shared/api/crd-schema.ts); the status and scale
// subresources, printer columns and selectable fields are the CRD's. Pure: built from the object.
import type { KubeObject, StatusCause } from '../types.ts';
import { deepEqual } from '../util.ts';
import { admitCustom, type JSONSchemaProps } from '../api/crd-schema.ts';
import { validationRuleFailures } from '../api/crd-validation-rules.ts';
import { evaluate } from '../api/jsonpath.ts';
import { age, NAME } from '../api/printers.ts';
import { MethodNotAllowedError } from '../errors.ts';
import { defineStrategy, NAMES } from './define.ts';
import { resourceInfo, type Column, type Conversion, type ResourceInfo, type Strategy } from './strategy.ts';

export interface CustomKinds {
  /** The stored kind (its storage version). */
  strategy: Strategy;
  /** The other served versions. */
  conversions: Conversion[];
}

function resourceOf(crd: KubeObject, version: any): ResourceInfo {
  const n = crd.spec.names;
  const subresources = [...(version.subresources?.status ? ['status'] : []), ...(version.subresources?.scale ? ['scale'] : [])];
  return resourceInfo({
    group: crd.spec.group,
    version: version.name,
    plural: n.plural,
    singular: n.singular ?? String(n.kind).toLowerCase(),
    kind: n.kind,
    listKind: n.listKind ?? `${n.kind}List`,
    namespaced: crd.spec.scope !== 'Cluster',
    shortNames: n.shortNames ?? [],
    categories: n.categories ?? [],
    subresources,
  });
}

/** A printer column's cell: the first value its JSONPath finds, printed as Kubernetes' CRD table convertor does. */
function cellOf(c: any): Column['cell'] {
  return (obj, nowMs) => {
    const v = evaluate(obj, c.jsonPath)[0];
    if (v === undefined || v === null) return null;
    if (c.type === 'date' && typeof v === 'string') return age(v, nowMs);
    if ((c.type === 'integer' || c.type === 'number') && typeof v === 'number') return v;
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  };
}

/** NAME, then the CRD's columns; a CRD naming no columns gets AGE (Kubernetes' default for a CRD). */
function columnsOf(version: any): Column[] {
  const custom: any[] = version.additionalPrinterColumns ?? [];
  if (!custom.length) return [NAME, { name: 'Age', type: 'date', description: 'CreationTimestamp', cell: (o, now) => age(o.metadata.creationTimestamp, now) }];
  return [NAME, ...custom.map((c) => ({ name: c.name, type: c.type === 'date' ? 'date' : c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0, cell: cellOf(c) }))];
}

function terminatingRefusal(crd: KubeObject, r: ResourceInfo): MethodNotAllowedError {
  void crd;
  void r;
  return new MethodNotAllowedError('create not allowed while custom resource definition is terminating');
}

function withApiVersion(obj: KubeObject, apiVersion: string): KubeObject {
  return { ...obj, apiVersion };
}

/** The kinds a CRD defines, or undefined if it serves nothing. */
export function customKindsOf(crd: KubeObject): CustomKinds | undefined {
  const versions: any[] = crd.spec?.versions ?? [];
  const storage = versions.find((v) => v?.storage);
  if (!storage || !crd.spec?.names?.plural) return undefined;
  const stored = resourceOf(crd, storage);
  const storedApiVersion = `${stored.group}/${stored.version}`;
  const schemaOf = (v: any): JSONSchemaProps | undefined => v.schema?.openAPIV3Schema;
  const statusOn = !!storage.subresources?.status;
  const scale = storage.subresources?.scale;
  const deleting = !!crd.metadata.deletionTimestamp;
  const structure = (schema: JSONSchemaProps | undefined) => (obj: KubeObject): { causes: StatusCause[]; unknownFields: string[] } => admitCustom(schema, obj);
  const strategy = defineStrategy({
    resource: stored,
    schema: schemaOf(storage),
    structure: structure(schemaOf(storage)),
    statusSubresource: statusOn,
    generation: true,
    // As Kubernetes' customresource strategy: with a status subresource only spec changes count;
    // without one, any change outside metadata does.
    specChanged: (next, old) => {
      if (statusOn) return !deepEqual(next.spec, old.spec);
      const { metadata: _a, ...a } = next;
      const { metadata: _b, ...b } = old;
      return !deepEqual(a, b);
    },
    nameErrors: NAMES.subdomain,
    // The schema's CEL rules: the plain ones on every write, the transition ones (oldSelf) on updates,
    // optionalOldSelf ones on creates too.
    validate: (obj) => validationRuleFailures(schemaOf(storage), obj, 'plain'),
    validateCreate: (obj) => validationRuleFailures(schemaOf(storage), obj, 'create'),
    validateUpdate: (obj, old) => validationRuleFailures(schemaOf(storage), obj, 'transition', old),
    prepareForCreate(obj) {
      if (statusOn) delete obj.status;
    },
    async admit(_obj, old) {
      if (!old && deleting) throw terminatingRefusal(crd, stored);
    },
    scale: scale ? { specReplicasPath: scale.specReplicasPath, statusReplicasPath: scale.statusReplicasPath, labelSelectorPath: scale.labelSelectorPath } : undefined,
    selectableFields: (storage.selectableFields ?? []).map((f: any) => String(f.jsonPath).replace(/^\./, '')),
    columns: columnsOf(storage),
    onRead: (obj) => (obj.apiVersion === storedApiVersion ? obj : withApiVersion(obj, storedApiVersion)),
  });
  const conversions: Conversion[] = versions
    .filter((v) => v && v !== storage && v.served)
    .map((v) => {
      const resource = resourceOf(crd, v);
      const apiVersion = `${resource.group}/${resource.version}`;
      return {
        resource,
        schema: schemaOf(v) ?? { type: 'object' },
        structure: structure(schemaOf(v)),
        // This version's own rules when its schema differs from the storage version's (whose rules run on the stored form).
        validate: deepEqual(schemaOf(v), schemaOf(storage)) ? () => [] : (obj: KubeObject) => validationRuleFailures(schemaOf(v), obj, 'plain'),
        toStorage: (obj) => withApiVersion(obj, storedApiVersion),
        fromStorage: (obj) => withApiVersion(obj, apiVersion),
      };
    });
  return { strategy, conversions };
}

/** Whether a CRD's storage version is served (the stored resource is routed only then). */
export function storageServed(crd: KubeObject): boolean {
  return !!(crd.spec?.versions ?? []).find((v: any) => v?.storage)?.served;
}
