// CustomResourceDefinitions: the CRD's own validation, and its schema applied to custom resources
// (pruning, defaults, value validation in Kubernetes' words), without a cluster.
import test from 'ava';
import { admitCustom, schemaErrors } from '../../shared/api/crd-schema.ts';
import { crdErrors, customResourceDefinitionStrategy } from '../../shared/registry/kinds/customresourcedefinition.ts';
import { customKindsOf } from '../../shared/registry/custom-resources.ts';
import { evaluate } from '../../shared/api/jsonpath.ts';
import { DEFAULT_ADMISSION } from '../../shared/registry/admission.ts';

const cronTabSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
        image: { type: 'string' },
        replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
        port: { 'x-kubernetes-int-or-string': true },
        mode: { type: 'string', enum: ['a', 'b'], nullable: true },
        ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' } } } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
      },
    },
    status: { type: 'object', properties: { replicas: { type: 'integer' } } },
  },
};

function cronTabCrd(extra: Record<string, any> = {}): any {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'] },
      versions: [
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: cronTabSchema }, subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } }, additionalPrinterColumns: [{ name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' }, { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' }] },
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: cronTabSchema } },
      ],
      ...extra,
    },
  };
}

test('the CronTab CRD is valid, defaulted and accepted', (t) => {
  const crd = cronTabCrd();
  customResourceDefinitionStrategy.defaults(crd, DEFAULT_ADMISSION);
  t.deepEqual(crdErrors(crd), []);
  t.is(crd.spec.names.listKind, 'CronTabList');
  t.is(crd.spec.conversion.strategy, 'None');
  customResourceDefinitionStrategy.prepareForCreate(crd);
  t.deepEqual(crd.status.conditions.map((c: any) => `${c.type}=${c.status}`), ['NamesAccepted=True', 'Established=True']);
  t.is(crd.status.acceptedNames.kind, 'CronTab');
  t.deepEqual(crd.status.storedVersions, ['v1']);
});

test('a CRD is refused as Kubernetes refuses it', (t) => {
  const fields = (crd: any) => crdErrors(crd).map((c) => `${c.field}: ${c.message}`);
  const noDot = cronTabCrd({ group: 'example' });
  noDot.metadata.name = 'crontabs.example';
  t.true(fields(noDot).includes('spec.group: Invalid value: "example": should be a domain with at least one dot'));
  const badName = cronTabCrd();
  badName.metadata.name = 'crontab.stable.example.com';
  t.true(fields(badName).includes('metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group'));
  const twoStorage = cronTabCrd();
  twoStorage.spec.versions[1].storage = true;
  t.true(fields(twoStorage).some((f) => f.startsWith('spec.versions: Invalid value:') && f.endsWith('must have exactly one version marked as storage version')));
  t.true(fields(cronTabCrd({ conversion: { strategy: 'Webhook' } })).some((f) => f.startsWith('spec.conversion.strategy: Forbidden: conversion webhooks are not supported')));
  const noSchema = cronTabCrd();
  delete noSchema.spec.versions[0].schema;
  t.true(fields(noSchema).includes('spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required'));
  t.true(fields(cronTabCrd({ scope: 'Global' })).includes('spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"'));
});

test('a schema must be structural (its CEL rules are checked apart, see cel-rules.test.ts)', (t) => {
  const errs = schemaErrors({ type: 'object', properties: { spec: { properties: { a: { type: 'string' } } }, rules: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.size() > 0' }] } } }, 'schema');
  t.true(errs.some((c) => c.field === 'schema.properties[spec].type' && c.message.startsWith('Required value')));
  t.false(errs.some((c) => c.field.includes('x-kubernetes-validations')));
  t.deepEqual(schemaErrors(cronTabSchema, 's'), []);
});

test('custom resources are pruned, defaulted and validated in Kubernetes\' words', (t) => {
  const obj: any = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'a', bogus: 1 }, spec: { cronSpec: '* * * * */5', image: 'x', unknown: 1, extra: { kept: true }, template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { any: 1 }, dropped: 1 } } };
  const { causes, unknownFields } = admitCustom(cronTabSchema, obj);
  t.deepEqual(causes, []);
  t.deepEqual(unknownFields.sort(), ['metadata.bogus', 'spec.template.dropped', 'spec.unknown']);
  t.is(obj.spec.replicas, 1);
  t.deepEqual(obj.spec.extra, { kept: true });
  t.deepEqual(obj.spec.template.spec, { any: 1 });

  const messages = (o: any) => admitCustom(cronTabSchema, o).causes.map((c) => `${c.field}: ${c.message}`);
  t.deepEqual(messages({ spec: { replicas: 'string' } }), ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']);
  t.deepEqual(messages({ spec: { replicas: 11 } }), ['spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10']);
  t.deepEqual(messages({ spec: { cronSpec: 'nope' } }), ['spec.cronSpec: Invalid value: "nope": spec.cronSpec in body should match \'^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$\'']);
  t.deepEqual(messages({ spec: { mode: 'c' } }), ['spec.mode: Unsupported value: "c": supported values: "a", "b"']);
  t.deepEqual(messages({ spec: { mode: null, port: 80 } }), []);
  t.deepEqual(messages({ spec: { port: 'http' } }), []);
  t.deepEqual(messages({ spec: { ports: [{ name: 'a' }, { name: 'a', port: 2 }] } }), ['spec.ports[1]: Duplicate value: {"name":"a"}']);
  t.deepEqual(messages({ spec: { ports: [{ port: 2 }] } }), ['spec.ports[0].name: Required value']);
  t.deepEqual(messages({ spec: { template: { metadata: {} } } }), ['spec.template.apiVersion: Required value: must not be empty', 'spec.template.kind: Required value: must not be empty']);
});

test('a CRD\'s kinds: the storage version stored, the other served versions converted by apiVersion', (t) => {
  const crd = cronTabCrd();
  customResourceDefinitionStrategy.defaults(crd, DEFAULT_ADMISSION);
  const kinds = customKindsOf(crd)!;
  t.is(kinds.strategy.resource.version, 'v1');
  t.deepEqual(kinds.strategy.resource.subresources, ['status', 'scale']);
  t.is(kinds.conversions.length, 1);
  t.is(kinds.conversions[0].toStorage({ apiVersion: 'stable.example.com/v1beta1', kind: 'CronTab', metadata: {} }).apiVersion, 'stable.example.com/v1');
  const cells = kinds.strategy.columns.map((c) => c.cell({ apiVersion: '', kind: 'CronTab', metadata: { name: 'x' }, spec: { cronSpec: '* * * * *', replicas: 2 } }, Date.now()));
  t.deepEqual(cells, ['x', '* * * * *', 2]);
  // With the status subresource, only spec changes count for generation.
  const base = { apiVersion: 'a', kind: 'CronTab', metadata: {}, spec: { a: 1 }, status: { x: 1 } };
  t.false(kinds.strategy.specChanged!({ ...base, status: { x: 2 } }, base));
  t.true(kinds.strategy.specChanged!({ ...base, spec: { a: 2 } }, base));
});

test('JSONPath as printer columns use it', (t) => {
  const obj = { status: { conditions: [{ type: 'A', status: 'False' }, { type: 'Ready', status: 'True' }] }, spec: { list: [{ n: 1 }, { n: 2 }] }, metadata: { labels: { 'app.kubernetes.io/name': 'w' } } };
  t.deepEqual(evaluate(obj, '.status.conditions[?(@.type=="Ready")].status'), ['True']);
  t.deepEqual(evaluate(obj, '.spec.list[1].n'), [2]);
  t.deepEqual(evaluate(obj, '.spec.list[*].n'), [1, 2]);
  t.deepEqual(evaluate(obj, ".metadata.labels['app.kubernetes.io/name']"), ['w']);
  t.deepEqual(evaluate(obj, '.spec.missing'), []);
});

test('installed custom kinds are served, scaled through their CRD\'s paths, and gone when their CRD is', async (t) => {
  const { installCustomKinds, strategyFor } = await import('../../shared/registry/registry.ts');
  const { RESOURCES, findByPath, STORED_RESOURCES } = await import('../../shared/api/resources.ts');
  const { scaleOf, setScaleReplicas, scaleTargetResource } = await import('../../shared/api/scale.ts');
  const crd = cronTabCrd();
  crd.spec.versions[0].subresources.scale.labelSelectorPath = '.status.selector';
  customResourceDefinitionStrategy.defaults(crd, DEFAULT_ADMISSION);
  installCustomKinds([customKindsOf(crd)!]);
  try {
    const r = findByPath('stable.example.com', 'v1', 'crontabs')!;
    t.truthy(r);
    t.truthy(findByPath('stable.example.com', 'v1beta1', 'crontabs'));
    t.true(STORED_RESOURCES.includes(r));
    t.is(strategyFor('crontabs').resource, r);
    t.is(scaleTargetResource('stable.example.com', 'CronTab'), r);
    const obj: any = { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c' }, spec: { replicas: 2 }, status: { replicas: 1, selector: 'app=c' } };
    t.like(scaleOf(obj, r), { kind: 'Scale', spec: { replicas: 2 }, status: { replicas: 1, selector: 'app=c' } });
    t.is(setScaleReplicas(obj, 5, r).spec.replicas, 5);
  } finally {
    installCustomKinds([]);
  }
  t.falsy(RESOURCES.find((x) => x.plural === 'crontabs'));
});
