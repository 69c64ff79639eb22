// CEL (shared/api/cel.ts) and CRD validation rules (x-kubernetes-validations) evaluated as
// Kubernetes' apiextensions-apiserver does, in its words, without a cluster.
import test from 'ava';
import { compile, isCompileError, toCel } from '../../shared/api/cel.ts';
import { validationRuleErrors, validationRuleFailures } from '../../shared/api/crd-validation-rules.ts';
import { crdErrors } from '../../shared/registry/kinds/customresourcedefinition.ts';
import { customKindsOf } from '../../shared/registry/custom-resources.ts';
import { admitCreate, admitStatusUpdate, admitUpdate, DEFAULT_ADMISSION } from '../../shared/registry/admission.ts';
import { InvalidError } from '../../shared/errors.ts';

const run = (src: string, self: unknown, schema?: any) => {
  const c = compile(src, { self: schema ? { schema } : undefined });
  if (isCompileError(c)) throw new Error(c.error);
  return c.evaluate({ self: toCel(self, schema) });
};

test('the expressions operators write evaluate: has, size, macros, strings, regex, lists', (t) => {
  const self = { name: 'web-1', replicas: 3, items: [1, 2, 3], labels: { app: 'web' }, port: 'http' };
  const cases: [string, unknown][] = [
    ['has(self.name) && !has(self.missing)', true],
    ['size(self.items) == 3 && self.items.size() == 3', true],
    ['self.items.all(i, i > 0) && self.items.exists(i, i == 2) && self.items.exists_one(i, i == 3)', true],
    ['self.items.map(i, i * 2) == [2, 4, 6]', true],
    ['self.items.filter(i, i > 1).size() == 2', true],
    ["self.name.startsWith('web') && self.name.endsWith('-1') && self.name.contains('b-')", true],
    ["self.name.matches('^[a-z]+-[0-9]$')", true],
    ["self.name.find('[0-9]+') == '1' && self.name.findAll('[a-z]') == ['w', 'e', 'b']", true],
    ['self.items.isSorted() && self.items.sum() == 6 && self.items.min() == 1 && self.items.max() == 3', true],
    ['self.items.indexOf(2) == 1 && self.items.lastIndexOf(9) == -1', true],
    ["'app' in self.labels && self.labels.all(k, self.labels[k] == 'web')", true],
    ["self.name.split('-')[1] == '1' && self.name.upperAscii() == 'WEB-1'", true],
    ['self.replicas / 2 == 1', true], // integers stay integers
    ["type(self.port) == string ? self.port.size() > 0 : self.port > 0", true], // int-or-string
  ];
  for (const [src, want] of cases) t.deepEqual(run(src, self), { value: want }, src);
  t.deepEqual(run('self.missing == 1', self), { error: 'no such key: missing' });
});

test("Kubernetes' quantity library: exact comparisons and arithmetic; functions of libraries this server lacks are named", (t) => {
  const self = { memory: '1536Mi', cpu: '1500m' };
  const cases: [string, unknown][] = [
    ["quantity(self.memory).isGreaterThan(quantity('1Gi')) && quantity(self.cpu).isLessThan(quantity('2'))", true],
    ["quantity('1000m') == quantity('1') && quantity('1k').compareTo(quantity('999')) == 1", true],
    ["quantity(self.memory).add(quantity('512Mi')).compareTo(quantity('2Gi')) == 0 && quantity('1').sub(1).sign() == 0", true],
    ["quantity('3k').asInteger() == 3000 && !quantity(self.cpu).isInteger() && quantity('100m').asApproximateFloat() == 0.1", true],
    ["isQuantity(self.memory) && !isQuantity('1 GB')", true],
  ];
  for (const [src, want] of cases) t.deepEqual(run(src, self), { value: want }, src);
  t.deepEqual(run("quantity(self.cpu).asInteger() > 0", self), { error: 'cannot convert value to integer' });
  const c = compile('isURL(self)', { self: undefined });
  t.regex(isCompileError(c) ? c.error : '', /function 'isURL' of Kubernetes' CEL libraries is not supported by this server/);
});

test('compiling refuses what cel-go refuses, in its words with the caret line', (t) => {
  const schema = { type: 'object', properties: { replicas: { type: 'integer' }, labels: { type: 'object', additionalProperties: { type: 'string' } } } };
  const err = (src: string) => {
    const c = compile(src, { self: { schema } });
    return isCompileError(c) ? c.error : '';
  };
  t.is(err('self.replica > 1'), "ERROR: <input>:1:5: undefined field 'replica'\n | self.replica > 1\n | ....^");
  t.regex(err('self.replicas.foo'), /type 'int' does not support field selection/);
  t.regex(err('nope(self)'), /undeclared reference to 'nope' \(in container ''\)/);
  t.regex(err('oldSelf == self'), /undeclared reference to 'oldSelf'/);
  t.regex(err('self.replicas <'), /^ERROR: <input>:1:15: Syntax error: /);
  t.is(err('self.labels.anything == "x"'), ''); // a map's keys are not fields
});

const widgetSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      'x-kubernetes-validations': [
        { rule: 'self.minReplicas <= self.replicas', message: 'replicas must be at least minReplicas', fieldPath: '.replicas' },
        { rule: 'self.mode == oldSelf.mode', message: 'mode is immutable', reason: 'FieldValueForbidden' },
      ],
      properties: {
        replicas: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self <= 10' }] },
        minReplicas: { type: 'integer', default: 1 },
        mode: { type: 'string' },
        name: { type: 'string', 'x-kubernetes-validations': [{ rule: "self.startsWith('w')", messageExpression: "'name ' + self + ' must start with w'" }] },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self >= oldSelf', message: 'ports only grow' }] } } },
        },
        tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'self.all(x, self.exists_one(y, x == y))', reason: 'FieldValueDuplicate' }] },
      },
    },
  },
};

test('rules run at their node, with Kubernetes 1.32 wording for each reason', (t) => {
  const obj = { apiVersion: 'x/v1', kind: 'Widget', metadata: { name: 'a' }, spec: { replicas: 12, minReplicas: 13, mode: 'a', name: 'bad', tags: ['x', 'x'] } };
  const causes = validationRuleFailures(widgetSchema, obj, 'plain');
  t.deepEqual(causes, [
    { reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: "object": replicas must be at least minReplicas' },
    { reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: "integer": failed rule: self <= 10' },
    { reason: 'FieldValueInvalid', field: 'spec.name', message: 'Invalid value: "string": name bad must start with w' },
    { reason: 'FieldValueDuplicate', field: 'spec.tags', message: 'Duplicate value: "array"' },
  ]);
  // Transition rules do not run without an old value.
  t.false(causes.some((c) => c.message.includes('immutable')));
});

test('transition rules see oldSelf where the old value correlates (object keys, list-map keys)', (t) => {
  const old = { spec: { replicas: 1, mode: 'a', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53 }] } };
  const next = { spec: { replicas: 1, minReplicas: 1, mode: 'b', ports: [{ name: 'dns', port: 52 }, { name: 'new', port: 1 }, { name: 'http', port: 8080 }] } };
  t.deepEqual(validationRuleFailures(widgetSchema, next, 'transition', old), [
    { reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: mode is immutable' },
    { reason: 'FieldValueInvalid', field: 'spec.ports[0].port', message: 'Invalid value: "integer": ports only grow' },
  ]);
  t.deepEqual(validationRuleFailures(widgetSchema, next, 'plain'), []);
});

const crd = (schema: any, versions = 1): any => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: Array.from({ length: versions }, (_, i) => ({ name: `v${i + 1}`, served: true, storage: i === 0, schema: { openAPIV3Schema: schema } })),
  },
});

test('a CRD whose rules do not compile is refused, naming the rule as Kubernetes does', (t) => {
  const schema = { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' } }, 'x-kubernetes-validations': [{ rule: 'has(self.b)' }, { rule: 'self.a.size() > 0', reason: 'Nope' }, { rule: 'true', optionalOldSelf: true }] } } };
  const errs = crdErrors(crd(schema));
  const rule = errs.find((c) => c.field === 'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule');
  t.truthy(rule);
  t.true(rule!.message.startsWith('Invalid value: apiextensions.ValidationRule{Rule:"has(self.b)", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:'));
  t.true(rule!.message.includes("undefined field 'b'"));
  t.true(errs.some((c) => c.field === 'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].reason' && c.message.startsWith('Unsupported value: "Nope"')));
  t.true(errs.some((c) => c.field === 'spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[2].optionalOldSelf' && c.message === 'Invalid value: true: may not be set if oldSelf is not used in rule'));
  // Versions with different schemas are named by version.
  const two = crd(schema, 2);
  two.spec.versions[1].schema.openAPIV3Schema = { type: 'object' };
  t.true(crdErrors(two).some((c) => c.field.startsWith('spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0]')));
  // oldSelf under items of a list that is not a map cannot correlate.
  const uncorrelated = { type: 'object', properties: { l: { type: 'array', items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] } } } };
  t.true(validationRuleErrors(uncorrelated, 's').some((c) => c.message.includes('oldSelf cannot be used on the uncorrelatable portion of the schema within s.properties[l].items')));
  t.deepEqual(crdErrors(crd(widgetSchema)), []);
});

test('the custom kind enforces rules on create and transition rules on update; a root rule is named <nil>', (t) => {
  const schema = structuredClone(widgetSchema) as any;
  schema['x-kubernetes-validations'] = [{ rule: "self.metadata.name != 'forbidden'" }];
  const { strategy } = customKindsOf(crd(schema))!;
  const make = (spec: any, name = 'a') => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, namespace: 'default' }, spec });
  const err = t.throws(() => admitCreate(strategy, make({ replicas: 20 }), DEFAULT_ADMISSION), { instanceOf: InvalidError });
  t.is(err!.message, 'Widget.example.com "a" is invalid: spec.replicas: Invalid value: "integer": failed rule: self <= 10');
  t.regex(t.throws(() => admitCreate(strategy, make({ replicas: 1 }, 'forbidden'), DEFAULT_ADMISSION))!.message, /<nil>: Invalid value: "object": failed rule: self.metadata.name != 'forbidden'/);
  const old = make({ replicas: 2, mode: 'a' });
  admitCreate(strategy, old, DEFAULT_ADMISSION);
  const changed = { ...structuredClone(old), spec: { ...old.spec, mode: 'b' } };
  t.is(t.throws(() => admitUpdate(strategy, changed, old, DEFAULT_ADMISSION))!.message, 'Widget.example.com "a" is invalid: spec: Forbidden: mode is immutable');
  const fine = { ...structuredClone(old), spec: { ...old.spec, replicas: 3 } };
  t.notThrows(() => admitUpdate(strategy, fine, old, DEFAULT_ADMISSION));
});

test('a rule or messageExpression of the wrong type is refused when the CRD is written', (t) => {
  const schema = { type: 'object', properties: { spec: { type: 'object', properties: { n: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'self + 1' }, { rule: 'self > 0', messageExpression: 'self' }, { rule: 'self > 0 ? true : false', messageExpression: "'n is ' + string(self)" }] } } } } };
  const errs = validationRuleErrors(schema, 's');
  t.deepEqual(errs.map((c) => [c.field, c.message.replace(/apiextensions\.ValidationRule\{.*?\}: /, '')]), [
    ['s.properties[spec].properties[n].x-kubernetes-validations[0].rule', 'Invalid value: cel expression must evaluate to a bool'],
    ['s.properties[spec].properties[n].x-kubernetes-validations[1].messageExpression', 'Invalid value: messageExpression must evaluate to string'],
  ]);
});

test('status writes of a custom resource are held to its rules, transition rules included', (t) => {
  const schema = { type: 'object', properties: { spec: { type: 'object' }, status: { type: 'object', properties: { phase: { type: 'string', 'x-kubernetes-validations': [{ rule: "self != 'Broken'" }, { rule: "oldSelf != 'Done' || self == 'Done'", message: 'Done is final' }] } } } } };
  const def = crd(schema);
  def.spec.versions[0].subresources = { status: {} };
  const { strategy } = customKindsOf(def)!;
  const old = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'a', namespace: 'default' }, spec: {}, status: { phase: 'Done' } };
  t.regex(t.throws(() => admitStatusUpdate(strategy, { ...old, status: { phase: 'Broken' } }, old))!.message, /status\.phase: Invalid value: "string": failed rule: self != 'Broken'/);
  t.regex(t.throws(() => admitStatusUpdate(strategy, { ...old, status: { phase: 'Running' } }, old))!.message, /status\.phase: Invalid value: "string": Done is final/);
  t.notThrows(() => admitStatusUpdate(strategy, { ...old, status: { phase: 'Done' } }, old));
});

test('optionalOldSelf rules run on creates and uncorrelated items too, with oldSelf an optional', (t) => {
  const schema = { type: 'object', properties: { spec: { type: 'object', properties: {
    size: { type: 'integer', 'x-kubernetes-validations': [{ rule: 'oldSelf.hasValue() ? self >= oldSelf.value() : self <= 100', message: 'size may grow from at most 100, never shrink', optionalOldSelf: true }] },
    note: { type: 'string', 'x-kubernetes-validations': [{ rule: "self == oldSelf.orValue('first')", optionalOldSelf: true }, { rule: 'oldSelf == optional.none() || self.size() > 0', optionalOldSelf: true }] },
  } } } };
  const def = crd(schema);
  t.deepEqual(crdErrors(def), []);
  const { strategy } = customKindsOf(def)!;
  const make = (spec: any) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'a', namespace: 'default' }, spec });
  t.regex(t.throws(() => admitCreate(strategy, make({ size: 101 }), DEFAULT_ADMISSION))!.message, /spec\.size: Invalid value: "integer": size may grow from at most 100, never shrink/);
  t.regex(t.throws(() => admitCreate(strategy, make({ size: 5, note: 'second' }), DEFAULT_ADMISSION))!.message, /spec\.note: Invalid value: "string": failed rule: self == oldSelf.orValue\('first'\)/);
  const old = make({ size: 50, note: 'first' });
  admitCreate(strategy, old, DEFAULT_ADMISSION);
  t.notThrows(() => admitUpdate(strategy, make({ size: 500, note: 'first' }), old, DEFAULT_ADMISSION));
  t.regex(t.throws(() => admitUpdate(strategy, make({ size: 40, note: 'first' }), old, DEFAULT_ADMISSION))!.message, /spec\.size: Invalid value: "integer": size may grow/);
  // A field new in this update has no old value: its optional is none.
  const noNote = make({ size: 50 });
  admitCreate(strategy, noNote, DEFAULT_ADMISSION);
  t.notThrows(() => admitUpdate(strategy, make({ size: 50, note: 'first' }), noNote, DEFAULT_ADMISSION));
});
