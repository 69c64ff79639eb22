import test from 'ava';
import {
  parseLabelSelector,
  matchesRequirements,
  selectorMatches,
  selectorRequirements,
  formatSelector,
  parseFieldSelector,
  matchesFields,
  type LabelRequirement,
} from '../../shared/api/selectors.ts';
import { BadRequestError } from '../../shared/errors.ts';
import type { KubeObject, LabelSelector } from '../../shared/types.ts';

// ---------------------------------------------------------------------------------------------
// parseLabelSelector: valid syntax
// ---------------------------------------------------------------------------------------------

const parseCases: [string, string | undefined, LabelRequirement[]][] = [
  ['undefined', undefined, []],
  ['empty string', '', []],
  ['whitespace only', '   ', []],
  ['equality =', 'a=b', [{ key: 'a', op: 'In', values: ['b'] }]],
  ['equality ==', 'a==b', [{ key: 'a', op: 'In', values: ['b'] }]],
  ['inequality !=', 'a!=b', [{ key: 'a', op: 'NotIn', values: ['b'] }]],
  ['empty value', 'a=', [{ key: 'a', op: 'In', values: [''] }]],
  ['empty value !=', 'a!=', [{ key: 'a', op: 'NotIn', values: [''] }]],
  // Kubernetes keeps a set's values as a sorted set.
  ['set in', 'env in (prod,dev)', [{ key: 'env', op: 'In', values: ['dev', 'prod'] }]],
  ['set notin', 'env notin (prod)', [{ key: 'env', op: 'NotIn', values: ['prod'] }]],
  ['set in with spaces in parens', 'env in ( prod , dev )', [{ key: 'env', op: 'In', values: ['dev', 'prod'] }]],
  ['duplicate set values', 'env in (b,a,b)', [{ key: 'env', op: 'In', values: ['a', 'b'] }]],
  // labels.Parse reads "()" and empty entries as the empty value: `x in (foo,,baz),y,z notin ()` is its own example.
  ['empty set is the empty value', 'a in ()', [{ key: 'a', op: 'In', values: [''] }]],
  ['empty entries are the empty value', 'x in (foo,,baz),z notin ()', [{ key: 'x', op: 'In', values: ['', 'baz', 'foo'] }, { key: 'z', op: 'NotIn', values: [''] }]],
  ['in and notin are values where values go', 'a in (in,notin)', [{ key: 'a', op: 'In', values: ['in', 'notin'] }]],
  ['greater than', 'replicas>3', [{ key: 'replicas', op: 'Gt', values: ['3'] }]],
  ['less than', 'replicas < 10', [{ key: 'replicas', op: 'Lt', values: ['10'] }]],
  ['set in without space before paren', 'env in(prod)', [{ key: 'env', op: 'In', values: ['prod'] }]],
  ['exists', 'tier', [{ key: 'tier', op: 'Exists' }]],
  ['does not exist', '!tier', [{ key: 'tier', op: 'DoesNotExist' }]],
  ['does not exist with space', '! tier', [{ key: 'tier', op: 'DoesNotExist' }]],
  ['spaces around operator', 'a = b', [{ key: 'a', op: 'In', values: ['b'] }]],
  ['spaces around !=', 'a != b', [{ key: 'a', op: 'NotIn', values: ['b'] }]],
  ['leading/trailing whitespace', '  a=b  ,  c  ', [{ key: 'a', op: 'In', values: ['b'] }, { key: 'c', op: 'Exists' }]],
  ['prefixed key', 'app.kubernetes.io/name=web', [{ key: 'app.kubernetes.io/name', op: 'In', values: ['web'] }]],
  ['value with dots, dashes, underscores', 'v=1.2-3_x', [{ key: 'v', op: 'In', values: ['1.2-3_x'] }]],
  [
    'combination with commas inside parentheses',
    'a=b,c!=d,e in (x,y),f notin (z),g,!h',
    [
      { key: 'a', op: 'In', values: ['b'] },
      { key: 'c', op: 'NotIn', values: ['d'] },
      { key: 'e', op: 'In', values: ['x', 'y'] },
      { key: 'f', op: 'NotIn', values: ['z'] },
      { key: 'g', op: 'Exists' },
      { key: 'h', op: 'DoesNotExist' },
    ],
  ],
  [
    'two set terms in a row',
    'a in (1,2),b notin (3,4)',
    [
      { key: 'a', op: 'In', values: ['1', '2'] },
      { key: 'b', op: 'NotIn', values: ['3', '4'] },
    ],
  ],
];

for (const [name, input, expected] of parseCases) {
  test(`parseLabelSelector: ${name}`, (t) => {
    t.deepEqual(parseLabelSelector(input), expected);
  });
}

// ---------------------------------------------------------------------------------------------
// parseLabelSelector: invalid syntax throws BadRequestError naming the term
// ---------------------------------------------------------------------------------------------

const KEY_RULE = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_RULE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const invalidCases: [string, string, string][] = [
  // [description, input, Kubernetes' message (apimachinery labels.Parse)]
  ['trailing comma', 'a=b,', "found '', expected: identifier after ','"],
  ['leading comma', ',a=b', "found ',', expected: !, identifier, or 'end of string'"],
  ['double comma', 'a=b,,c=d', "found ',', expected: identifier after ','"],
  ['bad key character', 'a$=b', `unable to parse requirement: <nil>: Invalid value: "a$": ${KEY_RULE}`],
  ['value with space', 'a=b c', "found 'c', expected: ',' or 'end of string'"],
  ['value with invalid character', 'a=b@c', `unable to parse requirement: values[0][a]: Invalid value: "b@c": ${VALUE_RULE}`],
  ['a=b=c', 'a=b=c', "found '=', expected: ',' or 'end of string'"],
  ['key starting with dash', '-a=b', `unable to parse requirement: <nil>: Invalid value: "-a": ${KEY_RULE}`],
  ['value ending with dash', 'a=b-', `unable to parse requirement: values[0][a]: Invalid value: "b-": ${VALUE_RULE}`],
  ['bad value in set', 'env in (prod,de v)', "unable to parse requirement: found 'v', expected: ',' or ')'"],
  ['bad value in set (invalid char)', 'env in (pr@d)', `unable to parse requirement: values[0][env]: Invalid value: "pr@d": ${VALUE_RULE}`],
  ['unknown set operator', 'env within (a)', "unable to parse requirement: found 'within', expected: in, notin, =, ==, !=, gt, lt"],
  ['!key=value', '!a=b', "found '=', expected: ',' or 'end of string'"],
  ['bare operator', '=b', "found '=', expected: !, identifier, or 'end of string'"],
  ['only bang', '!', "unable to parse requirement: found '', expected: identifier"],
  ['unclosed set', 'a in (b', "unable to parse requirement: found '', expected: ',' or ')'"],
  ['set without parenthesis', 'a in b', "unable to parse requirement: found 'b' expected: '('"],
  ['set opened by an operator', 'a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
  ['non-integer bound', 'a>b', `unable to parse requirement: values[0]: Invalid value: "b": for 'Gt', 'Lt' operators, the value must be an integer`],
  ['value too long', `a=${'x'.repeat(64)}`, `unable to parse requirement: values[0][a]: Invalid value: "${'x'.repeat(64)}": must be no more than 63 characters`],
];

for (const [name, input, message] of invalidCases) {
  test(`parseLabelSelector rejects ${name}: ${JSON.stringify(input)}`, (t) => {
    const err = t.throws(() => parseLabelSelector(input), { instanceOf: BadRequestError });
    t.is(err!.code, 400);
    t.is(err!.reason, 'BadRequest');
    t.is(err!.message, message);
  });
}

// Kubernetes' label keys are `[prefix/]name`: at most one slash, name at most 63 characters,
// prefix a DNS subdomain; values at most 63 characters.
test('parseLabelSelector rejects a key with two slashes (Kubernetes: a qualified name has at most one "/")', (t) => {
  const err = t.throws(() => parseLabelSelector('a/b/c=d'), { instanceOf: BadRequestError });
  t.regex(err!.message, /^unable to parse requirement: <nil>: Invalid value: "a\/b\/c": a qualified name must consist of/);
});

test('parseLabelSelector: a bad key prefix is named as the prefix part', (t) => {
  const err = t.throws(() => parseLabelSelector('Example.com/a=b'), { instanceOf: BadRequestError });
  t.regex(err!.message, /Invalid value: "Example.com\/a": prefix part a lowercase RFC 1123 subdomain/);
});

test('parseLabelSelector accepts a 63-character value', (t) => {
  t.deepEqual(parseLabelSelector(`a=${'x'.repeat(63)}`), [{ key: 'a', op: 'In', values: ['x'.repeat(63)] }]);
});

// ---------------------------------------------------------------------------------------------
// matchesRequirements
// ---------------------------------------------------------------------------------------------

const matchCases: [string, string, Record<string, string> | undefined, boolean][] = [
  ['= matches equal value', 'app=web', { app: 'web' }, true],
  ['= does not match other value', 'app=web', { app: 'db' }, false],
  ['= does not match missing key', 'app=web', {}, false],
  ['= with empty value matches empty label', 'app=', { app: '' }, true],
  ['= with empty value does not match missing key', 'app=', {}, false],
  ['== matches equal value', 'app==web', { app: 'web' }, true],
  ['!= matches other value', 'app!=web', { app: 'db' }, true],
  ['!= does not match equal value', 'app!=web', { app: 'web' }, false],
  ['!= matches object lacking the key (as Kubernetes)', 'app!=web', {}, true],
  ['!= matches undefined labels', 'app!=web', undefined, true],
  ['in matches one of values', 'env in (a,b)', { env: 'b' }, true],
  ['in does not match other value', 'env in (a,b)', { env: 'c' }, false],
  ['in does not match missing key', 'env in (a,b)', {}, false],
  ['notin matches other value', 'env notin (a,b)', { env: 'c' }, true],
  ['notin does not match listed value', 'env notin (a,b)', { env: 'a' }, false],
  ['notin matches object lacking the key (as Kubernetes)', 'env notin (a,b)', {}, true],
  ['exists matches present key', 'tier', { tier: '' }, true],
  ['exists does not match missing key', 'tier', { other: 'x' }, false],
  ['!exists matches missing key', '!tier', { other: 'x' }, true],
  ['!exists does not match present key', '!tier', { tier: 'x' }, false],
  ['!exists matches undefined labels', '!tier', undefined, true],
  ['all requirements ANDed: all hold', 'a=1,b!=2,c', { a: '1', b: '3', c: '' }, true],
  ['all requirements ANDed: one fails', 'a=1,b!=2,c', { a: '1', b: '2', c: '' }, false],
  ['empty selector matches everything', '', { anything: 'x' }, true],
  ['empty selector matches undefined labels', '', undefined, true],
  ['key lookup is exact, not prototype', 'toString', {}, false],
  ['!constructor on empty labels', '!constructor', {}, true],
];

for (const [name, sel, labels, expected] of matchCases) {
  test(`matchesRequirements: ${name}`, (t) => {
    t.is(matchesRequirements(labels, parseLabelSelector(sel)), expected);
  });
}

// ---------------------------------------------------------------------------------------------
// selectorMatches (LabelSelector objects)
// ---------------------------------------------------------------------------------------------

const objectCases: [string, LabelSelector | undefined, Record<string, string> | undefined, boolean][] = [
  ['empty selector {} matches everything', {}, { a: 'b' }, true],
  ['empty selector {} matches unlabelled', {}, undefined, true],
  ['matchLabels all equal', { matchLabels: { app: 'web', tier: 'fe' } }, { app: 'web', tier: 'fe', x: 'y' }, true],
  ['matchLabels one differs', { matchLabels: { app: 'web', tier: 'fe' } }, { app: 'web', tier: 'be' }, false],
  ['matchLabels key missing', { matchLabels: { app: 'web' } }, {}, false],
  ['matchExpressions In', { matchExpressions: [{ key: 'env', operator: 'In', values: ['a', 'b'] }] }, { env: 'a' }, true],
  ['matchExpressions In miss', { matchExpressions: [{ key: 'env', operator: 'In', values: ['a', 'b'] }] }, { env: 'c' }, false],
  ['matchExpressions NotIn missing key', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['a'] }] }, {}, true],
  ['matchExpressions NotIn listed', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['a'] }] }, { env: 'a' }, false],
  ['matchExpressions Exists', { matchExpressions: [{ key: 'env', operator: 'Exists' }] }, { env: '' }, true],
  ['matchExpressions Exists missing', { matchExpressions: [{ key: 'env', operator: 'Exists' }] }, {}, false],
  ['matchExpressions DoesNotExist', { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, {}, true],
  ['matchExpressions DoesNotExist present', { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, { env: 'x' }, false],
  [
    'matchLabels AND matchExpressions: both hold',
    { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] },
    { app: 'web', env: 'prod' },
    true,
  ],
  [
    'matchLabels AND matchExpressions: expression fails',
    { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] },
    { app: 'web', env: 'dev' },
    false,
  ],
  [
    'matchLabels AND matchExpressions: label fails',
    { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] },
    { app: 'db', env: 'prod' },
    false,
  ],
];

for (const [name, sel, labels, expected] of objectCases) {
  test(`selectorMatches: ${name}`, (t) => {
    t.is(selectorMatches(sel, labels), expected);
  });
}

test('selectorRequirements converts matchLabels and matchExpressions', (t) => {
  t.deepEqual(
    selectorRequirements({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['a'] },
        { key: 'x', operator: 'NotIn', values: ['b', 'c'] },
        { key: 'y', operator: 'Exists' },
        { key: 'z', operator: 'DoesNotExist' },
      ],
    }),
    [
      { key: 'app', op: 'In', values: ['web'] },
      { key: 'env', op: 'In', values: ['a'] },
      { key: 'x', op: 'NotIn', values: ['b', 'c'] },
      { key: 'y', op: 'Exists' },
      { key: 'z', op: 'DoesNotExist' },
    ],
  );
  t.deepEqual(selectorRequirements(undefined), []);
  t.deepEqual(selectorRequirements({}), []);
});

// ---------------------------------------------------------------------------------------------
// formatSelector
// ---------------------------------------------------------------------------------------------

const formatCases: [string, LabelSelector | undefined, string][] = [
  ['undefined', undefined, ''],
  ['empty', {}, ''],
  ['single label', { matchLabels: { app: 'web' } }, 'app=web'],
  ['two labels (already sorted)', { matchLabels: { app: 'web', tier: 'fe' } }, 'app=web,tier=fe'],
  ['in with two values', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }, 'tier in (a,b)'],
  ['notin with two values', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a', 'b'] }] }, 'tier notin (a,b)'],
  ['exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, 'tier'],
  ['does not exist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, '!tier'],
  [
    'labels and expressions',
    { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
    'app=web,tier in (a,b)',
  ],
];

for (const [name, sel, expected] of formatCases) {
  test(`formatSelector: ${name}`, (t) => {
    t.is(formatSelector(sel), expected);
  });
}

const roundTrip: LabelSelector[] = [
  { matchLabels: { app: 'web' } },
  { matchLabels: { app: 'web', 'app.kubernetes.io/part-of': 'shop' } },
  { matchExpressions: [{ key: 'env', operator: 'In', values: ['a', 'b', 'c'] }] },
  { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['a', 'b'] }] },
  { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['a'] }] },
  { matchExpressions: [{ key: 'env', operator: 'Exists' }, { key: 'legacy', operator: 'DoesNotExist' }] },
  {
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'staging'] },
      { key: 'canary', operator: 'DoesNotExist' },
    ],
  },
];

for (const sel of roundTrip) {
  test(`formatSelector round-trips through parseLabelSelector: ${JSON.stringify(sel)}`, (t) => {
    const text = formatSelector(sel);
    const reparsed = parseLabelSelector(text);
    // The printed form is sorted by key; compare as sets of requirements.
    const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    t.deepEqual([...reparsed].sort(byKey), [...selectorRequirements(sel)].sort(byKey));
    // And means the same thing on a few label sets.
    const samples: Record<string, string>[] = [{}, { app: 'web' }, { app: 'web', env: 'prod' }, { app: 'web', env: 'a', canary: 'y' }, { env: 'c', legacy: '1' }];
    for (const labels of samples) t.is(matchesRequirements(labels, reparsed), selectorMatches(sel, labels), JSON.stringify(labels));
  });
}

// Kubernetes prints a selector via LabelSelectorAsSelector(...).String(): the requirements are
// sorted by key (internalSelector.Add sorts ByKey) and the values of a set are sorted.
test('formatSelector sorts requirements by key, as Kubernetes does (kubectl -o wide Selector, Scale.status.selector)', (t) => {
  // BUG: formatSelector keeps insertion order: matchLabels {tier, app} prints "tier=fe,app=web";
  // Kubernetes prints "app=web,tier=fe".
  t.is(formatSelector({ matchLabels: { tier: 'fe', app: 'web' } }), 'app=web,tier=fe');
});

test('formatSelector sorts the values of a set requirement, as Kubernetes does', (t) => {
  // BUG: values printed in given order: "env in (b,a)"; Kubernetes prints "env in (a,b)".
  t.is(formatSelector({ matchExpressions: [{ key: 'env', operator: 'In', values: ['b', 'a'] }] }), 'env in (a,b)');
});

test('formatSelector prints a one-value In expression as a set, as Kubernetes does', (t) => {
  // BUG (cosmetic): matchExpressions In with a single value is printed as "env=a";
  // Kubernetes' Requirement.String() for selection.In prints "env in (a)" (only matchLabels become "=").
  t.is(formatSelector({ matchExpressions: [{ key: 'env', operator: 'In', values: ['a'] }] }), 'env in (a)');
});

// ---------------------------------------------------------------------------------------------
// parseFieldSelector
// ---------------------------------------------------------------------------------------------

const fieldOk: [string, string, string, { field: string; value: string; negate: boolean }[]][] = [
  ['Pod', 'empty', '', []],
  ['Pod', 'metadata.name=', 'metadata.name=', [{ field: 'metadata.name', value: '', negate: false }]],
  ['Pod', 'metadata.name', 'metadata.name=web', [{ field: 'metadata.name', value: 'web', negate: false }]],
  ['Pod', 'metadata.namespace ==', 'metadata.namespace==default', [{ field: 'metadata.namespace', value: 'default', negate: false }]],
  ['Pod', 'spec.nodeName', 'spec.nodeName=node-1', [{ field: 'spec.nodeName', value: 'node-1', negate: false }]],
  ['Pod', 'status.phase !=', 'status.phase!=Running', [{ field: 'status.phase', value: 'Running', negate: true }]],
  [
    'Pod',
    'combination',
    'spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed',
    [
      { field: 'spec.nodeName', value: 'n1', negate: false },
      { field: 'status.phase', value: 'Succeeded', negate: true },
      { field: 'status.phase', value: 'Failed', negate: true },
    ],
  ],
  ['Pod', 'spec.restartPolicy', 'spec.restartPolicy=Never', [{ field: 'spec.restartPolicy', value: 'Never', negate: false }]],
  ['Pod', 'spec.schedulerName', 'spec.schedulerName=default-scheduler', [{ field: 'spec.schedulerName', value: 'default-scheduler', negate: false }]],
  ['Pod', 'spec.serviceAccountName', 'spec.serviceAccountName=default', [{ field: 'spec.serviceAccountName', value: 'default', negate: false }]],
  ['Pod', 'status.podIP', 'status.podIP=10.0.0.1', [{ field: 'status.podIP', value: '10.0.0.1', negate: false }]],
  ['Pod', 'status.nominatedNodeName', 'status.nominatedNodeName=n', [{ field: 'status.nominatedNodeName', value: 'n', negate: false }]],
  ['Event', 'involvedObject.name', 'involvedObject.name=web-1', [{ field: 'involvedObject.name', value: 'web-1', negate: false }]],
  ['Event', 'involvedObject.kind', 'involvedObject.kind=Pod', [{ field: 'involvedObject.kind', value: 'Pod', negate: false }]],
  ['Event', 'involvedObject.uid', 'involvedObject.uid=u', [{ field: 'involvedObject.uid', value: 'u', negate: false }]],
  ['Event', 'reason', 'reason=BackOff', [{ field: 'reason', value: 'BackOff', negate: false }]],
  ['Event', 'type', 'type!=Normal', [{ field: 'type', value: 'Normal', negate: true }]],
  ['Event', 'source', 'source=kubelet', [{ field: 'source', value: 'kubelet', negate: false }]],
  ['Node', 'spec.unschedulable', 'spec.unschedulable=true', [{ field: 'spec.unschedulable', value: 'true', negate: false }]],
  ['Node', 'metadata.name', 'metadata.name=n1', [{ field: 'metadata.name', value: 'n1', negate: false }]],
  ['Namespace', 'status.phase', 'status.phase=Active', [{ field: 'status.phase', value: 'Active', negate: false }]],
  ['Secret', 'type', 'type=kubernetes.io/tls', [{ field: 'type', value: 'kubernetes.io/tls', negate: false }]],
  ['ReplicaSet', 'status.replicas', 'status.replicas=0', [{ field: 'status.replicas', value: '0', negate: false }]],
  ['ConfigMap', 'metadata.name', 'metadata.name=cfg', [{ field: 'metadata.name', value: 'cfg', negate: false }]],
  ['Deployment', 'metadata.namespace', 'metadata.namespace=kube-system', [{ field: 'metadata.namespace', value: 'kube-system', negate: false }]],
];

for (const [kind, name, input, expected] of fieldOk) {
  test(`parseFieldSelector(${kind}): ${name}`, (t) => {
    t.deepEqual(parseFieldSelector(input, kind), expected);
  });
}

test('parseFieldSelector: undefined is empty', (t) => {
  t.deepEqual(parseFieldSelector(undefined, 'Pod'), []);
});

const fieldUnsupported: [string, string, string][] = [
  ['Pod', 'spec.containers=x', 'spec.containers'],
  ['Pod', 'metadata.labels=x', 'metadata.labels'],
  ['Pod', 'involvedObject.name=x', 'involvedObject.name'], // an Event field, not a Pod one
  ['Pod', 'metadata.name=a,spec.foo!=b', 'spec.foo'],
  ['Event', 'spec.nodeName=n1', 'spec.nodeName'],
  ['Node', 'status.phase=Ready', 'status.phase'],
  ['Namespace', 'spec.finalizers=x', 'spec.finalizers'],
  ['ConfigMap', 'data.key=x', 'data.key'],
  ['ConfigMap', 'type=Opaque', 'type'], // Secret's field only
  ['Deployment', 'status.replicas=1', 'status.replicas'], // ReplicaSet's field only
  ['Service', 'spec.clusterIP=10.0.0.1', 'spec.clusterIP'],
];

for (const [kind, input, field] of fieldUnsupported) {
  test(`parseFieldSelector(${kind}) rejects ${input} with "field label not supported: ${field}"`, (t) => {
    const err = t.throws(() => parseFieldSelector(input, kind), { instanceOf: BadRequestError });
    t.is(err!.message, `field label not supported: ${field}`);
    t.is(err!.code, 400);
  });
}

test('parseFieldSelector rejects a term without an operator', (t) => {
  const err = t.throws(() => parseFieldSelector('metadata.name', 'Pod'), { instanceOf: BadRequestError });
  t.true(err!.message.includes("can't understand 'metadata.name'"), err!.message);
});

// ---------------------------------------------------------------------------------------------
// matchesFields
// ---------------------------------------------------------------------------------------------

const pod = (extra: any = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default' },
  spec: { nodeName: 'node-1', restartPolicy: 'Always', containers: [] },
  status: { phase: 'Running', podIP: '10.1.0.5' },
  ...extra,
});

const event: KubeObject = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web-1.17a', namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: 'u-1', fieldPath: 'spec.containers{app}' },
  reason: 'BackOff',
  type: 'Warning',
  source: { component: 'kubelet', host: 'node-1' },
  reportingComponent: 'kubelet',
};

const fieldMatchCases: [string, string, KubeObject, boolean][] = [
  ['Pod', 'metadata.name=web-1', pod(), true],
  ['Pod', 'metadata.name=web-2', pod(), false],
  ['Pod', 'metadata.name!=web-2', pod(), true],
  ['Pod', 'metadata.name!=web-1', pod(), false],
  ['Pod', 'metadata.namespace=default', pod(), true],
  ['Pod', 'spec.nodeName=node-1', pod(), true],
  ['Pod', 'spec.nodeName=', pod({ spec: { containers: [] } }), true], // unscheduled pods have an empty nodeName
  ['Pod', 'spec.nodeName!=', pod(), true],
  ['Pod', 'spec.nodeName!=', pod({ spec: { containers: [] } }), false],
  ['Pod', 'status.phase=Running', pod(), true],
  ['Pod', 'status.phase!=Running', pod(), false],
  ['Pod', 'status.phase!=Succeeded,status.phase!=Failed', pod(), true],
  ['Pod', 'status.phase!=Succeeded,status.phase!=Failed', pod({ status: { phase: 'Failed' } }), false],
  ['Pod', 'spec.nodeName=node-1,status.phase=Pending', pod(), false],
  ['Pod', 'status.podIP=10.1.0.5', pod(), true],
  ['Event', 'involvedObject.name=web-1', event, true],
  ['Event', 'involvedObject.name=web-2', event, false],
  ['Event', 'involvedObject.kind=Pod,involvedObject.name=web-1', event, true],
  ['Event', 'involvedObject.uid=u-1', event, true],
  ['Event', 'involvedObject.fieldPath=spec.containers{app}', event, true],
  ['Event', 'reason=BackOff', event, true],
  ['Event', 'type=Normal', event, false],
  ['Event', 'type!=Normal', event, true],
  ['Event', 'source=kubelet', event, true],
  ['Event', 'source=scheduler', event, false],
  ['Event', 'source=default-scheduler', { ...event, source: undefined, reportingComponent: 'default-scheduler' }, true],
];

for (const [kind, sel, obj, expected] of fieldMatchCases) {
  test(`matchesFields(${kind}): ${sel} on ${JSON.stringify(obj.spec ?? obj.involvedObject ?? {}).slice(0, 40)} -> ${expected}`, (t) => {
    t.is(matchesFields(obj, parseFieldSelector(sel, kind)), expected);
  });
}

test('matchesFields: no requirements matches everything', (t) => {
  t.true(matchesFields(pod(), []));
});

// Kubernetes' field label functions print booleans and integers with fmt/strconv, so a node without
// spec.unschedulable has "false" and a ReplicaSet without status.replicas has "0".
test('matchesFields: spec.unschedulable=false matches a schedulable Node whose spec omits the field', (t) => {
  // BUG: fieldValue returns '' for an absent field, so `kubectl get nodes --field-selector
  // spec.unschedulable=false` returns nothing for nodes that never were cordoned. Kubernetes'
  // NodeToSelectableFields uses fmt.Sprint(node.Spec.Unschedulable) = "false".
  const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: {} };
  t.true(matchesFields(node, parseFieldSelector('spec.unschedulable=false', 'Node')));
});

test('matchesFields: spec.unschedulable=true matches a cordoned Node', (t) => {
  const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { unschedulable: true } };
  t.true(matchesFields(node, parseFieldSelector('spec.unschedulable=true', 'Node')));
  t.false(matchesFields(node, parseFieldSelector('spec.unschedulable!=true', 'Node')));
});

test('matchesFields: status.replicas=0 matches a ReplicaSet with no status yet', (t) => {
  // BUG: absent status.replicas reads as '' rather than Kubernetes' strconv.Itoa(0) = "0".
  const rs: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: {} };
  t.true(matchesFields(rs, parseFieldSelector('status.replicas=0', 'ReplicaSet')));
});

// ---------------------------------------------------------------------------------------------
// Gt / Lt requirements, and field selector escapes (apimachinery fields.ParseSelector)
// ---------------------------------------------------------------------------------------------

test('matchesRequirements: Gt and Lt compare integer labels; a label that is not an integer matches neither', (t) => {
  const gt = parseLabelSelector('n>3');
  const lt = parseLabelSelector('n<3');
  t.true(matchesRequirements({ n: '4' }, gt));
  t.false(matchesRequirements({ n: '3' }, gt));
  t.true(matchesRequirements({ n: '-1' }, lt));
  t.false(matchesRequirements({ n: 'x' }, gt));
  t.false(matchesRequirements({ n: 'x' }, lt));
  t.false(matchesRequirements({}, gt));
  t.true(matchesRequirements({ n: '99999999999999999999' }, gt), 'beyond 2^53 still compares exactly');
});

test('parseFieldSelector: escaped commas and equals signs belong to the value', (t) => {
  t.deepEqual(parseFieldSelector('metadata.name=a\\,b\\=c\\\\,metadata.namespace!=x', 'Pod'), [
    { field: 'metadata.name', value: 'a,b=c\\', negate: false },
    { field: 'metadata.namespace', value: 'x', negate: true },
  ]);
});

test('parseFieldSelector: empty terms are skipped, as Kubernetes skips them', (t) => {
  t.deepEqual(parseFieldSelector('metadata.name=a,,', 'Pod'), [{ field: 'metadata.name', value: 'a', negate: false }]);
});

const fieldSyntaxErrors: [string, string][] = [
  ['metadata.name=a=b', 'invalid field selector: unescaped character in value: 61'],
  ['metadata.name=a\\x', 'invalid field selector: invalid escape sequence: \\x'],
  ['metadata.name=a\\', 'invalid field selector: invalid escape sequence: \\'],
  ['metadata.name', "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
  [' metadata.name=a', 'field label not supported:  metadata.name'],
];

for (const [input, message] of fieldSyntaxErrors) {
  test(`parseFieldSelector rejects ${JSON.stringify(input)} with Kubernetes' message`, (t) => {
    const err = t.throws(() => parseFieldSelector(input, 'Pod'), { instanceOf: BadRequestError });
    t.is(err!.code, 400);
    t.is(err!.message, message);
  });
}
