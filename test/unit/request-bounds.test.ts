// What a client may send, checked before anything computes on it: nesting, size, strings, query
// parameters, continue tokens, resourceVersions, DeleteOptions, and the paths that name nothing.
import test from 'ava';
import { parseAllDocuments } from 'yaml';
import type { Request } from 'express';
import {
  MAX_NESTING_DEPTH,
  checkJsonNesting,
  checkPatchedObject,
  checkYamlNesting,
  encodedSizeExceeds,
  findDuplicateFields,
  replaceLoneSurrogates,
  valueExceedsDepth,
} from '../../shared/api/bounds.ts';
import {
  MAX_TIMER_SECONDS,
  checkListOptions,
  decodeBody,
  decodeContinue,
  deleteOptionsOf,
  duplicateFieldWarnings,
  encodeContinue,
  parseBool,
  parseInt64,
  parseResourcePath,
  queryString,
  resourceVersionOf,
  warningHeaderValues,
  watchTimeoutSeconds,
} from '../../services/api/request.ts';
import { ApiError, BadRequestError } from '../../shared/errors.ts';

/** The parts of an express request the pure functions read. */
function request(query: Record<string, string | string[]> = {}, body?: string, contentType = 'application/json'): Request {
  return { query, body: body === undefined ? undefined : Buffer.from(body), headers: { 'content-type': contentType } } as unknown as Request;
}

function deepJson(levels: number): string {
  return '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

function throwsApi(t: any, fn: () => unknown, code: number, message?: string | RegExp): ApiError {
  const err = t.throws(fn, { instanceOf: ApiError }) as ApiError;
  t.is(err.code, code, err.message);
  if (typeof message === 'string') t.is(err.message, message);
  else if (message) t.regex(err.message, message);
  return err;
}

// ---- nesting ---------------------------------------------------------------------------------

test('checkJsonNesting allows the limit and refuses one level more, naming the limit', (t) => {
  t.notThrows(() => checkJsonNesting(deepJson(MAX_NESTING_DEPTH)));
  throwsApi(t, () => checkJsonNesting(deepJson(MAX_NESTING_DEPTH + 1)), 400, `json: exceeded max depth of ${MAX_NESTING_DEPTH}`);
});

test('checkJsonNesting ignores brackets inside strings, escaped quotes included', (t) => {
  t.notThrows(() => checkJsonNesting(`{"a":"${'['.repeat(500)}\\"${'{'.repeat(500)}"}`));
});

test('decodeBody refuses 10,000-deep JSON with a 400 before parsing it', (t) => {
  const started = performance.now();
  throwsApi(t, () => decodeBody(Buffer.from('['.repeat(10_000) + ']'.repeat(10_000)), 'application/json'), 400, /exceeded max depth of 100/);
  t.true(performance.now() - started < 100);
});

test('checkYamlNesting refuses deep flow collections, compact sequences and indentation', (t) => {
  for (const text of ['['.repeat(100_000), '- '.repeat(10_000) + 'x', Array.from({ length: 150 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')]) {
    const started = performance.now();
    throwsApi(t, () => checkYamlNesting(text), 400, `yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
    // Walking all 100 million items would take tens of seconds; stopping at the bound takes milliseconds.
  // The bound leaves room for a loaded CI machine.
  t.true(performance.now() - started < 1000);
  }
});

test('checkYamlNesting: a manifest passes, and brackets in quotes, plain text, comments and block scalars count nothing', (t) => {
  const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  template:
    spec:
      containers:
      - name: c
        image: busybox  # [[[[
        command: ["sh", "-c", "echo [[[[[[[["]
        args: ['it''s [[[[']
        env:
        - name: A
          value: x[0]{1}
        - name: SCRIPT
          value: |
            ${'['.repeat(200)}
              deeper: ${'{'.repeat(200)}
`;
  // About ten levels deep; the estimate may count a couple more, never a hundred.
  t.notThrows(() => checkYamlNesting(manifest, 14));
  t.notThrows(() => decodeBody(Buffer.from(manifest), 'application/yaml'));
});

test('checkYamlNesting sees collections behind anchors and tags, and backstops what it cannot read', (t) => {
  for (const text of [`a: &x ${'['.repeat(200)}`, `a: !!seq ${'['.repeat(200)}`, `- &x ${'- '.repeat(200)}x`, `a: '${'['.repeat(2000)}'`]) {
    throwsApi(t, () => checkYamlNesting(text), 400, 'yaml: exceeded max depth of 100');
  }
  t.notThrows(() => checkYamlNesting(`a: '${'['.repeat(500)}'`), 'quoted brackets below the backstop are text');
});

test('checkYamlNesting reads JSON, compact or not, as YAML flow collections: quoted brackets count nothing', (t) => {
  const value = { a: { b: ['[[[[', '{{{{'], c: 'x:[', 'd]': '}' } };
  t.notThrows(() => checkYamlNesting(JSON.stringify(value), 3));
  t.notThrows(() => checkYamlNesting(JSON.stringify(value, null, 2), 3));
  t.deepEqual(decodeBody(Buffer.from(JSON.stringify(value)), 'application/apply-patch+yaml'), value);
  t.throws(() => checkYamlNesting(JSON.stringify(value), 2));
});

test('decodeBody reads a YAML body that is JSON as JSON, as the YAML parser would, and fast (found by the API fuzz suite: a 1.2 MB apply blocked the API server for a second)', (t) => {
  const container = (i: number) => ({ name: `c${i}`, image: 'busybox:1.36', args: ['sleep', '3600'], env: [{ name: 'A', value: '1e+300' }], ports: [{ containerPort: 8080 }] });
  const small = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } }, spec: { containers: [container(0)], n: -0.5, big: 1e300, t: true, z: null } };
  const asYamlBlock = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    a: b\nspec:\n  containers:\n  - name: c0\n    image: busybox:1.36\n    args: [sleep, "3600"]\n    env: [{name: A, value: "1e+300"}]\n    ports: [{containerPort: 8080}]\n  n: -0.5\n  big: 1e300\n  t: true\n  z: null\n';
  t.deepEqual(decodeBody(Buffer.from(JSON.stringify(small)), 'application/apply-patch+yaml'), decodeBody(Buffer.from(asYamlBlock), 'application/yaml'));
  // A key named twice: JSON.parse would keep the last; YAML refuses it, and so does a YAML body.
  throwsApi(t, () => decodeBody(Buffer.from('{"a": 1, "a": 2}'), 'application/apply-patch+yaml'), 400, /^yaml: Map keys must be unique/);
  // JSON that JSON.parse refuses but YAML reads (a comment before it) is still YAML.
  t.deepEqual(decodeBody(Buffer.from('# applied\n{"a": [1, 2]}'), 'application/yaml'), { a: [1, 2] });
  const large = { ...small, spec: { containers: Array.from({ length: 12_000 }, (_, i) => container(i)) } };
  const text = JSON.stringify(large);
  t.true(text.length > 1_000_000);
  const started = performance.now();
  const decoded = decodeBody(Buffer.from(text), 'application/apply-patch+yaml');
  const elapsedMs = performance.now() - started;
  t.is(JSON.stringify(decoded), text);
  // Against the YAML parser on the same text, on the same (possibly loaded) machine: 20-70 ms against about 1,000 on a quiet one.
  const yamlStarted = performance.now();
  parseAllDocuments(text);
  const yamlMs = performance.now() - yamlStarted;
  t.true(elapsedMs < yamlMs / 4, `${elapsedMs.toFixed(0)} ms, the YAML parser ${yamlMs.toFixed(0)} ms`);
});

test('decodeBody refuses deep YAML and YAML alias bombs with 400s, fast', (t) => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    .concat('bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`))
    .join('\n');
  for (const [text, message] of [
    ['['.repeat(100_000), /exceeded max depth/],
    ['- '.repeat(5_000) + 'x', /exceeded max depth/],
    [bomb, /^yaml: Excessive alias count/],
  ] as const) {
    const started = performance.now();
    throwsApi(t, () => decodeBody(Buffer.from(text), 'application/yaml'), 400, message);
    t.true(performance.now() - started < 500, `${performance.now() - started} ms`);
  }
});

test('decodeBody checks the depth a YAML alias expands to', (t) => {
  const deep = '['.repeat(60) + ']'.repeat(60);
  throwsApi(t, () => decodeBody(Buffer.from(`a: &a ${deep}\nb: ${'['.repeat(60)}*a${']'.repeat(60)}`), 'application/yaml'), 400, 'yaml: exceeded max depth of 100');
});

test('decodeBody refuses a YAML body whose aliases expand past 3 MiB (413)', (t) => {
  const big = 'x'.repeat(1024 * 1024);
  throwsApi(t, () => decodeBody(Buffer.from(`a: &a "${big}"\nb: [*a, *a, *a, *a]`), 'application/yaml'), 413);
});

test('valueExceedsDepth counts containers, not scalars', (t) => {
  t.false(valueExceedsDepth({ a: { b: 'c' } }, 2));
  t.true(valueExceedsDepth({ a: { b: {} } }, 2));
  t.false(valueExceedsDepth('x', 0));
});

// ---- sizes -----------------------------------------------------------------------------------

test('encodedSizeExceeds stops early on values that share a large part many times', (t) => {
  const part = Array.from({ length: 1000 }, (_, i) => `item-${i}`);
  const shared = Array(100_000).fill(part); // 100,000 references: far more than a megabyte encoded
  const started = performance.now();
  t.true(encodedSizeExceeds(shared, 1024 * 1024));
  // Walking all 100 million items would take tens of seconds; stopping at the bound takes milliseconds.
  // The bound leaves room for a loaded CI machine.
  t.true(performance.now() - started < 1000);
  t.false(encodedSizeExceeds({ a: 'x'.repeat(10) }, 100));
});

test('checkPatchedObject: over 3 MiB is 413, past the patched depth limit 422', (t) => {
  throwsApi(t, () => checkPatchedObject({ data: 'x'.repeat(3 * 1024 * 1024) }), 413, 'Request entity too large: limit is 3145728');
  throwsApi(t, () => checkPatchedObject(JSON.parse(deepJson(111))), 422, 'the patched object exceeded max depth of 110');
  t.notThrows(() => checkPatchedObject(JSON.parse(deepJson(110))));
});

// ---- strings ---------------------------------------------------------------------------------

test('decodeBody replaces lone surrogates in strings and keys with U+FFFD, as Go does, and keeps pairs', (t) => {
  const json = '{"a\\ud800":"x\\udc00y","ok":"\\ud83d\\ude00","list":["\\udbff"]}';
  t.deepEqual(decodeBody(Buffer.from(json), 'application/json'), { 'a\ufffd': 'x\ufffdy', ok: '😀', list: ['\ufffd'] });
  t.deepEqual(decodeBody(Buffer.from('a: "\\ud800"\n"k\\udfff": 1\n'), 'application/yaml'), { a: '\ufffd', 'k\ufffd': 1 });
});

test('replaceLoneSurrogates leaves a value alone when the text has no surrogate escape', (t) => {
  const value = { a: '\ud800' }; // not from this text: nothing to look for
  t.is(replaceLoneSurrogates(value, '{"a":"b"}').a, '\ud800');
});

// ---- duplicate fields --------------------------------------------------------------------------

test('findDuplicateFields names each repeated field by its path', (t) => {
  const text = '{"metadata":{"name":"a","name":"b"},"spec":{"containers":[{"name":"x"},{"name":"y","image":"i","image":"j"}]},"a\\u0062":1,"ab":2,"s":"{\\"name\\":1,\\"name\\":2}"}';
  t.deepEqual(findDuplicateFields(text), ['metadata.name', 'spec.containers[1].image', 'ab']);
  t.deepEqual(findDuplicateFields('[{"a":1},{"a":2}]'), []);
});

test('duplicateFieldWarnings: Strict refuses as Kubernetes words it, Warn warns, Ignore and YAML say nothing', (t) => {
  const body = Buffer.from('{"metadata":{"name":"a","name":"b"}}');
  const pods = parseResourcePath('/api/v1/pods')!.resource;
  throwsApi(t, () => duplicateFieldWarnings(body, 'application/json', 'Strict', pods), 400, 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: duplicate field "metadata.name"');
  throwsApi(t, () => duplicateFieldWarnings(body, 'application/merge-patch+json', 'Strict'), 400, 'strict decoding error: duplicate field "metadata.name"');
  t.deepEqual(duplicateFieldWarnings(body, 'application/json', 'Warn'), ['duplicate field "metadata.name"']);
  t.deepEqual(duplicateFieldWarnings(body, 'application/json', 'Ignore'), []);
  t.deepEqual(duplicateFieldWarnings(Buffer.from('a: 1'), 'application/yaml', 'Strict'), []);
});

// ---- query parameters --------------------------------------------------------------------------

test('parseBool: every value but 0 and false (any case) is true, as Kubernetes converts booleans', (t) => {
  for (const v of ['true', 'True', 'TRUE', '1', '', 'yes', 'anything']) t.true(parseBool(v), v);
  for (const v of ['false', 'False', 'FALSE', '0']) t.false(parseBool(v), v);
  t.false(parseBool(undefined));
});

test('queryString takes the first of repeated values, as Kubernetes does', (t) => {
  t.is(queryString(request({ limit: ['5', '7'] }), 'limit'), '5');
});

test('parseInt64 follows strconv.ParseInt: sign and digits within int64, else a 400', (t) => {
  t.is(parseInt64('42'), 42);
  t.is(parseInt64('-7'), -7);
  t.is(parseInt64('+7'), 7);
  t.is(parseInt64('9223372036854775807'), 9223372036854775807);
  throwsApi(t, () => parseInt64('99999999999999999999'), 400, 'strconv.ParseInt: parsing "99999999999999999999": value out of range');
  for (const v of ['', '1.5', '1e3', 'abc', ' 1', '0x10']) throwsApi(t, () => parseInt64(v), 400, `strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
});

test('watchTimeoutSeconds clamps to what a Node.js timer holds, and picks 30-60 minutes without one', (t) => {
  t.is(watchTimeoutSeconds(request({ timeoutSeconds: '5' })), 5);
  t.is(watchTimeoutSeconds(request({ timeoutSeconds: '9223372036854775807' })), MAX_TIMER_SECONDS);
  t.true(MAX_TIMER_SECONDS * 1000 <= 2 ** 31 - 1);
  const chosen = watchTimeoutSeconds(request());
  t.true(chosen >= 1800 && chosen < 3600);
  throwsApi(t, () => watchTimeoutSeconds(request({ timeoutSeconds: '1e30' })), 400);
});

test('resourceVersionOf refuses anything strconv.ParseUint refuses, with Kubernetes\' message', (t) => {
  t.is(resourceVersionOf(request({ resourceVersion: '12' })), '12');
  t.is(resourceVersionOf(request({ resourceVersion: '0' })), '0');
  t.is(resourceVersionOf(request()), undefined);
  t.is(resourceVersionOf(request({ resourceVersion: '18446744073709551615' })), String(Number.MAX_SAFE_INTEGER));
  throwsApi(t, () => resourceVersionOf(request({ resourceVersion: 'abc' })), 400, 'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax');
  for (const v of ['-1', '1.5', '1e30', '+1']) throwsApi(t, () => resourceVersionOf(request({ resourceVersion: v })), 400, /invalid syntax$/);
  throwsApi(t, () => resourceVersionOf(request({ resourceVersion: '18446744073709551616' })), 400, /value out of range$/);
});

test('checkListOptions: resourceVersionMatch as ValidateListOptions checks it (422 ListOptions)', (t) => {
  t.notThrows(() => checkListOptions(request({ resourceVersion: '5', resourceVersionMatch: 'NotOlderThan' }), false));
  throwsApi(t, () => checkListOptions(request({ resourceVersion: '5', resourceVersionMatch: 'bogus' }), false), 422,
    'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "bogus": supported values: "Exact", "NotOlderThan", ""');
  throwsApi(t, () => checkListOptions(request({ resourceVersionMatch: 'Exact' }), false), 422, /resourceVersionMatch is forbidden unless resourceVersion is provided/);
  throwsApi(t, () => checkListOptions(request({ resourceVersion: '0', resourceVersionMatch: 'Exact' }), false), 422, /"exact" is forbidden for resourceVersion "0"/);
  throwsApi(t, () => checkListOptions(request({ resourceVersion: '5', resourceVersionMatch: 'NotOlderThan' }), true), 422, /forbidden for watch/);
  throwsApi(t, () => checkListOptions(request({ resourceVersion: '5', continue: 'x' }), false), 400, 'specifying resource version is not allowed when using continue');
});

// ---- continue tokens -----------------------------------------------------------------------------

test('continue tokens round-trip in Kubernetes\' format', (t) => {
  const token = encodeContinue({ rv: '42', start: 'default/web' });
  t.deepEqual(JSON.parse(Buffer.from(token, 'base64url').toString()), { v: 'meta.k8s.io/v1', rv: 42, start: 'default/web' });
  t.deepEqual(decodeContinue(token), { rv: '42', start: 'default/web' });
  t.deepEqual(decodeContinue(encodeContinue({ rv: '7', start: '/node-1' })), { rv: '7', start: '/node-1' });
});

test('decodeContinue refuses forged tokens with 400 "continue key is not valid"', (t) => {
  const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  const cases: [string, string | RegExp][] = [
    ['!!!', 'invalid continue token: continue key is not valid: illegal base64 data at input byte 0'],
    [b64('not json'), /^invalid continue token: continue key is not valid: /],
    [b64([1]), 'invalid continue token: continue key is not valid: json: cannot unmarshal array into Go value of type storage.continueToken'],
    [b64({ v: 'meta.k8s.io/v1', rv: '5', start: 'a/b' }), 'invalid continue token: continue key is not valid: json: cannot unmarshal string into Go struct field continueToken.rv of type int64'],
    [b64({ v: 'meta.k8s.io/v1', rv: 5, start: 7 }), 'invalid continue token: continue key is not valid: json: cannot unmarshal number 7 into Go struct field continueToken.start of type string'],
    [b64({ v: 'v9', rv: 5, start: 'a/b' }), 'invalid continue token: continue key is not valid: server does not recognize this encoded version "v9"'],
    [b64({ v: 'meta.k8s.io/v1', rv: 0, start: 'a/b' }), 'invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)'],
    [b64({ v: 'meta.k8s.io/v1', rv: 1.5, start: 'a/b' }), /incorrect encoded start resourceVersion/],
    [b64({ v: 'meta.k8s.io/v1', rv: 5, start: '' }), 'invalid continue token: continue key is not valid: encoded start key empty'],
    [b64({ v: 'meta.k8s.io/v1', rv: 5, start: '../../x' }), 'invalid continue token: continue key is not valid: ../../x'],
  ];
  for (const [token, message] of cases) throwsApi(t, () => decodeContinue(token), 400, message);
});

// ---- paths -----------------------------------------------------------------------------------

test('parseResourcePath: what Wharf does not serve is no resource path (404), a malformed escape a 400', (t) => {
  t.is(parseResourcePath('/apis/autoscaling/v2beta2/namespaces/default/horizontalpodautoscalers'), undefined);
  t.is(parseResourcePath('/api/v1/namespaces/default/widgets'), undefined);
  t.is(parseResourcePath('/api/v1/namespaces/default/pods/p/nonsense'), undefined);
  t.is(parseResourcePath('/api/v1/namespaces/default/pods/p/status/extra'), undefined);
  throwsApi(t, () => parseResourcePath('/api/v1/namespaces/%zz/pods'), 400, 'invalid URL escape "%zz"');
  t.like(parseResourcePath('/api/v1/namespaces/a%2Db/pods'), { namespace: 'a-b' });
});

test('parseResourcePath marks the legacy watch paths', (t) => {
  t.like(parseResourcePath('/api/v1/watch/pods'), { watch: true, namespace: undefined, name: undefined });
  t.like(parseResourcePath('/api/v1/watch/namespaces/ns/pods'), { watch: true, namespace: 'ns', name: undefined });
  t.like(parseResourcePath('/api/v1/watch/namespaces/ns/pods/p'), { watch: true, namespace: 'ns', name: 'p' });
  t.like(parseResourcePath('/apis/apps/v1/watch/namespaces/ns/deployments'), { watch: true, namespace: 'ns' });
  t.like(parseResourcePath('/api/v1/watch/namespaces/ns'), { watch: true, name: 'ns' });
  t.is(parseResourcePath('/api/v1/watch/namespaces/ns/pods/p/status'), undefined);
  t.is(parseResourcePath('/api/v1/namespaces/ns/pods')!.watch, undefined);
});

// ---- DeleteOptions -------------------------------------------------------------------------------

test('deleteOptionsOf decodes a DeleteOptions body', (t) => {
  t.deepEqual(deleteOptionsOf(request({}, JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground', gracePeriodSeconds: 5, preconditions: { uid: 'u' }, dryRun: ['All'] }))), {
    propagationPolicy: 'Foreground',
    gracePeriodSeconds: 5,
    preconditions: { uid: 'u' },
    dryRun: true,
  });
  t.like(deleteOptionsOf(request({}, JSON.stringify({ apiVersion: 'meta.k8s.io/v1', preconditions: null, orphanDependents: true }))), { propagationPolicy: 'Orphan', preconditions: undefined, dryRun: false });
});

test('deleteOptionsOf refuses bodies that are not DeleteOptions (400) as Go\'s decoder words it', (t) => {
  const cases: [string, string | RegExp][] = [
    ['"just a string"', 'json: cannot unmarshal string into Go value of type v1.DeleteOptions'],
    ['5', 'json: cannot unmarshal number 5 into Go value of type v1.DeleteOptions'],
    ['[]', 'json: cannot unmarshal array into Go value of type v1.DeleteOptions'],
    ['{"dryRun":"All"}', 'json: cannot unmarshal string into Go struct field DeleteOptions.dryRun of type []string'],
    ['{"dryRun":[1]}', 'json: cannot unmarshal number 1 into Go struct field DeleteOptions.dryRun of type string'],
    ['{"gracePeriodSeconds":1e300}', 'json: cannot unmarshal number 1e+300 into Go struct field DeleteOptions.gracePeriodSeconds of type int64'],
    ['{"gracePeriodSeconds":1.5}', /gracePeriodSeconds of type int64/],
    ['{"gracePeriodSeconds":"5"}', /gracePeriodSeconds of type int64/],
    ['{"preconditions":"x"}', 'json: cannot unmarshal string into Go struct field DeleteOptions.preconditions of type v1.Preconditions'],
    ['{"preconditions":{"uid":5}}', 'json: cannot unmarshal number 5 into Go struct field Preconditions.uid of type types.UID'],
    ['{"orphanDependents":"yes"}', /orphanDependents of type bool/],
    ['{"propagationPolicy":5}', /propagationPolicy of type string/],
    ['{"kind":"Pod","apiVersion":"v1"}', /^no kind "Pod" is registered for version "v1"/],
    ['{"kind":"DeleteOptions","apiVersion":"apps/v1"}', /^no kind "DeleteOptions" is registered for version "apps\/v1"/],
  ];
  for (const [body, message] of cases) throwsApi(t, () => deleteOptionsOf(request({}, body)), 400, message);
});

test('deleteOptionsOf validates as ValidateDeleteOptions (422 DeleteOptions)', (t) => {
  throwsApi(t, () => deleteOptionsOf(request({}, '{"propagationPolicy":"Sometimes"}')), 422,
    'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sometimes": supported values: "Foreground", "Background", "Orphan", "nil"');
  throwsApi(t, () => deleteOptionsOf(request({}, '{"dryRun":["Some"]}')), 422, 'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: supported values: "All"');
  throwsApi(t, () => deleteOptionsOf(request({}, '{"orphanDependents":true,"propagationPolicy":"Orphan"}')), 422, /orphanDependents and deletionPropagation cannot be both set/);
  throwsApi(t, () => deleteOptionsOf(request({ propagationPolicy: 'Sometimes' })), 422);
  throwsApi(t, () => deleteOptionsOf(request({ dryRun: 'Some' })), 422);
});

test('deleteOptionsOf: a negative grace period is one second, and none outlasts a timer', (t) => {
  t.is(deleteOptionsOf(request({}, '{"gracePeriodSeconds":-5}')).gracePeriodSeconds, 1);
  t.is(deleteOptionsOf(request({}, '{"gracePeriodSeconds":9223372036854775807}')).gracePeriodSeconds, MAX_TIMER_SECONDS);
  t.is(deleteOptionsOf(request({ gracePeriodSeconds: '0' })).gracePeriodSeconds, 0);
  throwsApi(t, () => deleteOptionsOf(request({ gracePeriodSeconds: '1e300' })), 400, 'strconv.ParseInt: parsing "1e300": invalid syntax');
});

test('deleteOptionsOf reads the query only when there is no body, as Kubernetes\' delete handler', (t) => {
  t.like(deleteOptionsOf(request({ orphanDependents: 'True', dryRun: 'All', gracePeriodSeconds: '3' })), { propagationPolicy: 'Orphan', dryRun: true, gracePeriodSeconds: 3 });
  t.like(deleteOptionsOf(request({ propagationPolicy: 'Orphan' })), { propagationPolicy: 'Orphan', dryRun: false });
  t.like(deleteOptionsOf(request({ propagationPolicy: 'Orphan', dryRun: 'All' }, '{}')), { propagationPolicy: undefined, dryRun: false });
});

test('decodeBody errors are BadRequestErrors', (t) => {
  t.throws(() => decodeBody(Buffer.from('{'), 'application/json'), { instanceOf: BadRequestError });
});

test('Warning headers as Kubernetes writes them: quoted and escaped, UTF-8 bytes as they are, texts with control characters left out (found by the API fuzz suite: a sysctl named "é" in a warning was a 500)', (t) => {
  t.deepEqual(warningHeaderValues(['duplicate field "metadata.name"', 'a \\ b']), ['299 - "duplicate field \\"metadata.name\\""', '299 - "a \\\\ b"']);
  const [utf8] = warningHeaderValues(['forbidden sysctls (é, 😀)']);
  t.is(Buffer.from(utf8, 'latin1').toString('utf8'), '299 - "forbidden sysctls (é, 😀)"');
  t.true([...utf8].every((c) => c.charCodeAt(0) <= 0xff), 'one byte per character, as Node writes headers');
  t.deepEqual(warningHeaderValues(['line\nbreak', 'tab\there', 'c1 \u0085']), []);
});

test('Warning headers stay within Kubernetes\' budget: each text once, and past 4096 characters each cut to 256 (found by the API fuzz suite: a warning quoting 45,000 characters of sysctls overflowed the client\'s header limit)', (t) => {
  t.deepEqual(warningHeaderValues(['same', 'same']), ['299 - "same"']);
  const long = 'x'.repeat(5000);
  t.deepEqual(warningHeaderValues(['first', long, 'after']), ['299 - "first"', `299 - "${'x'.repeat(256)}"`, '299 - "after"']);
  const many = Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(200, '.'));
  const values = warningHeaderValues(many);
  t.is(values.length, 21, '20 whole ones fit in 4096 characters; the 21st starts the cutting (each is under 256), and then the budget is spent');
  t.true(values.reduce((n, v) => n + v.length, 0) < 6000);
});
