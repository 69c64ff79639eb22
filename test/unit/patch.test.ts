import test from 'ava';
import { mergePatch, jsonPatch } from '../../shared/api/patch.ts';
import { ApiError, BadRequestError, InvalidError } from '../../shared/errors.ts';

// ---------------------------------------------------------------------------------------------
// JSON merge patch, RFC 7386 (Appendix A: every example of the RFC)
// ---------------------------------------------------------------------------------------------

const rfc7386: [any, any, any][] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [['a', 'b'], ['c', 'd'], ['c', 'd']],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

rfc7386.forEach(([target, patch, expected], i) => {
  test(`mergePatch RFC 7386 appendix A example ${i + 1}: ${JSON.stringify(target)} + ${JSON.stringify(patch)}`, (t) => {
    t.deepEqual(mergePatch(target, patch), expected);
  });
});

// RFC 7386 section 3's worked example.
test('mergePatch RFC 7386 section 3 example', (t) => {
  const target = {
    title: 'Goodbye!',
    author: { givenName: 'John', familyName: 'Doe' },
    tags: ['example', 'sample'],
    content: 'This will be unchanged',
  };
  const patch = {
    title: 'Hello!',
    phoneNumber: '+01-123-456-7890',
    author: { familyName: null },
    tags: ['example'],
  };
  t.deepEqual(mergePatch(target, patch), {
    title: 'Hello!',
    author: { givenName: 'John' },
    tags: ['example'],
    content: 'This will be unchanged',
    phoneNumber: '+01-123-456-7890',
  });
});

const mergeMore: [string, any, any, any][] = [
  ['empty patch is identity', { a: 1, b: { c: 2 } }, {}, { a: 1, b: { c: 2 } }],
  ['null for an absent key is a no-op', { a: 1 }, { z: null }, { a: 1 }],
  ['deeply nested merge', { metadata: { labels: { a: '1', b: '2' } } }, { metadata: { labels: { b: null, c: '3' } } }, { metadata: { labels: { a: '1', c: '3' } } }],
  ['object replaces scalar', { a: 1 }, { a: { b: 2 } }, { a: { b: 2 } }],
  ['scalar replaces object', { a: { b: 2 } }, { a: 3 }, { a: 3 }],
  ['nulls inside a new object are dropped', { }, { a: { b: null, c: 1 } }, { a: { c: 1 } }],
  ['arrays are replaced, nulls inside arrays kept', { a: [1, 2, 3] }, { a: [null, 4] }, { a: [null, 4] }],
  ['false, 0 and "" are values, not deletions', { a: 1, b: 2, c: 3 }, { a: false, b: 0, c: '' }, { a: false, b: 0, c: '' }],
  ['patch on undefined target', undefined, { a: 1 }, { a: 1 }],
  ['patch on a scalar target', 5, { a: 1 }, { a: 1 }],
  ['kubectl scale-like patch', { spec: { replicas: 1, template: { x: 1 } } }, { spec: { replicas: 5 } }, { spec: { replicas: 5, template: { x: 1 } } }],
];

for (const [name, target, patch, expected] of mergeMore) {
  test(`mergePatch: ${name}`, (t) => {
    t.deepEqual(mergePatch(target, patch), expected);
  });
}

test('mergePatch does not mutate target or patch', (t) => {
  const target = { a: { b: 1, c: [1, 2] }, d: 'x' };
  const patch = { a: { b: null, e: { f: 1 } }, d: null, g: [1] };
  const targetCopy = structuredClone(target);
  const patchCopy = structuredClone(patch);
  const out = mergePatch(target, patch);
  t.deepEqual(target, targetCopy);
  t.deepEqual(patch, patchCopy);
  t.deepEqual(out, { a: { c: [1, 2], e: { f: 1 } }, g: [1] });
  // The result's new subtrees are not the patch's own objects.
  out.a.e.f = 99;
  out.g.push(2);
  t.deepEqual(patch, patchCopy);
});

// ---------------------------------------------------------------------------------------------
// JSON patch, RFC 6902 (Appendix A examples)
// ---------------------------------------------------------------------------------------------

const rfc6902ok: [string, any, any[], any][] = [
  ['A.1 adding an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
  ['A.2 adding an array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
  ['A.3 removing an object member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
  ['A.4 removing an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
  ['A.5 replacing a value', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
  [
    'A.6 moving a value',
    { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
    [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
    { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
  ],
  ['A.7 moving an array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
  [
    'A.8 testing a value: success',
    { baz: 'qux', foo: ['a', 2, 'c'] },
    [
      { op: 'test', path: '/baz', value: 'qux' },
      { op: 'test', path: '/foo/1', value: 2 },
    ],
    { baz: 'qux', foo: ['a', 2, 'c'] },
  ],
  ['A.10 adding a nested member object', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
  ['A.11 ignoring unrecognized elements', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }], { foo: 'bar', baz: 'qux' }],
  ['A.14 ~ escape ordering', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }],
  ['A.16 adding an array value', { foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], { foo: ['bar', ['abc', 'def']] }],
];

for (const [name, doc, ops, expected] of rfc6902ok) {
  test(`jsonPatch RFC 6902 ${name}`, (t) => {
    t.deepEqual(jsonPatch(doc, ops), expected);
  });
}

test('jsonPatch RFC 6902 A.9 testing a value: error', (t) => {
  const err = t.throws(() => jsonPatch({ baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }]), { instanceOf: InvalidError });
  t.regex(err!.message, /testing value \/baz failed/);
  t.is(err!.code, 422);
});

test('jsonPatch RFC 6902 A.12 adding to a nonexistent target', (t) => {
  const err = t.throws(() => jsonPatch({ foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }]), { instanceOf: ApiError });
  t.regex(err!.message, /missing path: "\/baz\/bat"/);
});

test('jsonPatch RFC 6902 A.15 comparing strings and numbers', (t) => {
  t.throws(() => jsonPatch({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }]), { instanceOf: InvalidError });
});

const jsonMore: [string, any, any[], any][] = [
  ['add replaces an existing member', { a: 1 }, [{ op: 'add', path: '/a', value: 2 }], { a: 2 }],
  ['add at array start', { a: [1, 2] }, [{ op: 'add', path: '/a/0', value: 0 }], { a: [0, 1, 2] }],
  ['add at array end by index', { a: [1, 2] }, [{ op: 'add', path: '/a/2', value: 3 }], { a: [1, 2, 3] }],
  ['add - appends', { a: [1, 2] }, [{ op: 'add', path: '/a/-', value: 3 }], { a: [1, 2, 3] }],
  ['add - to empty array', { a: [] }, [{ op: 'add', path: '/a/-', value: 'x' }], { a: ['x'] }],
  ['add null value', { a: 1 }, [{ op: 'add', path: '/b', value: null }], { a: 1, b: null }],
  ['add whole document', { a: 1 }, [{ op: 'add', path: '', value: { b: 2 } }], { b: 2 }],
  ['replace whole document', { a: 1 }, [{ op: 'replace', path: '', value: [1] }], [1]],
  ['replace array element', { a: [1, 2, 3] }, [{ op: 'replace', path: '/a/1', value: 9 }], { a: [1, 9, 3] }],
  ['replace with null', { a: 1 }, [{ op: 'replace', path: '/a', value: null }], { a: null }],
  ['remove last array element', { a: [1, 2, 3] }, [{ op: 'remove', path: '/a/2' }], { a: [1, 2] }],
  ['remove a null member', { a: null, b: 1 }, [{ op: 'remove', path: '/a' }], { b: 1 }],
  ['escaped ~1 is "/"', { 'a/b': 1 }, [{ op: 'replace', path: '/a~1b', value: 2 }], { 'a/b': 2 }],
  ['escaped ~0 is "~"', { 'a~b': 1 }, [{ op: 'remove', path: '/a~0b' }], {}],
  ['~01 is "~1", not "/"', { '~1': 1, '/': 2 }, [{ op: 'remove', path: '/~01' }], { '/': 2 }],
  ['~10 is "/0"', { '/0': 1 }, [{ op: 'replace', path: '/~10', value: 3 }], { '/0': 3 }],
  [
    'Kubernetes annotation key with "/"',
    { metadata: { annotations: { 'kubernetes.io/change-cause': 'x' } } },
    [{ op: 'replace', path: '/metadata/annotations/kubernetes.io~1change-cause', value: 'y' }],
    { metadata: { annotations: { 'kubernetes.io/change-cause': 'y' } } },
  ],
  ['empty key', { '': 1 }, [{ op: 'replace', path: '/', value: 2 }], { '': 2 }],
  ['move to the same place', { a: 1 }, [{ op: 'move', from: '/a', path: '/a' }], { a: 1 }],
  ['move between objects', { a: { x: 1 }, b: {} }, [{ op: 'move', from: '/a/x', path: '/b/y' }], { a: {}, b: { y: 1 } }],
  ['copy object member', { a: { x: [1] } }, [{ op: 'copy', from: '/a', path: '/b' }], { a: { x: [1] }, b: { x: [1] } }],
  ['copy into array', { a: [1, 2], v: 9 }, [{ op: 'copy', from: '/v', path: '/a/1' }], { a: [1, 9, 2], v: 9 }],
  ['test object equality ignores key order', { a: { x: 1, y: 2 } }, [{ op: 'test', path: '/a', value: { y: 2, x: 1 } }], { a: { x: 1, y: 2 } }],
  ['test null value', { a: null }, [{ op: 'test', path: '/a', value: null }], { a: null }],
  ['test whole document', { a: 1 }, [{ op: 'test', path: '', value: { a: 1 } }], { a: 1 }],
  [
    'operations apply in sequence',
    { spec: { containers: [{ name: 'a', image: 'x' }] } },
    [
      { op: 'add', path: '/spec/containers/-', value: { name: 'b', image: 'y' } },
      { op: 'test', path: '/spec/containers/1/name', value: 'b' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'z' },
      { op: 'remove', path: '/spec/containers/1' },
    ],
    { spec: { containers: [{ name: 'a', image: 'z' }] } },
  ],
  ['empty operation list is identity', { a: 1 }, [], { a: 1 }],
];

for (const [name, doc, ops, expected] of jsonMore) {
  test(`jsonPatch: ${name}`, (t) => {
    t.deepEqual(jsonPatch(doc, ops), expected);
  });
}

const jsonErrors: [string, any, any, new (...args: any[]) => Error][] = [
  ['remove missing member', { a: 1 }, [{ op: 'remove', path: '/b' }], ApiError],
  ['remove missing array index', { a: [1] }, [{ op: 'remove', path: '/a/1' }], ApiError],
  ['remove through missing parent', { a: 1 }, [{ op: 'remove', path: '/x/y' }], ApiError],
  ['replace missing member', { a: 1 }, [{ op: 'replace', path: '/b', value: 1 }], ApiError],
  ['replace past array end', { a: [1] }, [{ op: 'replace', path: '/a/1', value: 1 }], ApiError],
  ['replace with - index', { a: [1] }, [{ op: 'replace', path: '/a/-', value: 1 }], ApiError],
  ['add past array end', { a: [1] }, [{ op: 'add', path: '/a/5', value: 1 }], ApiError],
  ['add negative array index', { a: [1] }, [{ op: 'add', path: '/a/-1', value: 1 }], ApiError],
  ['add non-numeric array index', { a: [1] }, [{ op: 'add', path: '/a/x', value: 1 }], ApiError],
  ['add below a scalar', { a: 1 }, [{ op: 'add', path: '/a/b', value: 1 }], ApiError],
  ['move from missing', { a: 1 }, [{ op: 'move', from: '/b', path: '/c' }], ApiError],
  ['copy from missing', { a: 1 }, [{ op: 'copy', from: '/b', path: '/c' }], ApiError],
  ['test missing path', { a: 1 }, [{ op: 'test', path: '/b', value: 1 }], ApiError],
  ['test type mismatch', { a: 1 }, [{ op: 'test', path: '/a', value: '1' }], InvalidError],
  ['test array order matters', { a: [1, 2] }, [{ op: 'test', path: '/a', value: [2, 1] }], InvalidError],
  ['pointer without leading slash', { a: 1 }, [{ op: 'remove', path: 'a' }], BadRequestError],
  ['unknown op', { a: 1 }, [{ op: 'frobnicate', path: '/a' }], BadRequestError],
  ['operation without path', { a: 1 }, [{ op: 'add', value: 1 }], BadRequestError],
  ['operation that is not an object', { a: 1 }, ['add'], BadRequestError],
  ['patch that is an object, not an array', { a: 1 }, { op: 'add', path: '/a', value: 1 }, BadRequestError],
];

for (const [name, doc, ops, cls] of jsonErrors) {
  test(`jsonPatch fails: ${name}`, (t) => {
    t.throws(() => jsonPatch(doc, ops), { instanceOf: cls });
  });
}

test('jsonPatch missing path error names the path', (t) => {
  const err = t.throws(() => jsonPatch({ a: 1 }, [{ op: 'remove', path: '/metadata/labels/x' }]), { instanceOf: ApiError });
  t.true(err!.message.includes('doc is missing path: "/metadata/labels/x"'), err!.message);
});

test('jsonPatch: a failing op fails the whole patch and leaves the input untouched', (t) => {
  const doc = { a: 1, list: [1, 2] };
  const copy = structuredClone(doc);
  t.throws(() =>
    jsonPatch(doc, [
      { op: 'replace', path: '/a', value: 2 },
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'test', path: '/a', value: 1 }, // fails: a is now 2
    ]),
  );
  t.deepEqual(doc, copy);
});

test('jsonPatch does not mutate its input document or operations', (t) => {
  const doc = { a: { b: [1, 2, 3] }, c: { d: 1 }, e: 'x' };
  const ops = [
    { op: 'add', path: '/a/b/-', value: { deep: [1] } },
    { op: 'remove', path: '/a/b/0' },
    { op: 'replace', path: '/c/d', value: 2 },
    { op: 'move', from: '/e', path: '/f' },
    { op: 'copy', from: '/c', path: '/g' },
  ];
  const docCopy = structuredClone(doc);
  const opsCopy = structuredClone(ops);
  const out = jsonPatch(doc, ops);
  t.deepEqual(doc, docCopy);
  t.deepEqual(ops, opsCopy);
  t.deepEqual(out, { a: { b: [2, 3, { deep: [1] }] }, c: { d: 2 }, f: 'x', g: { d: 2 } });
  // The added value is a copy: mutating the result does not touch the operation.
  out.a.b[2].deep.push(2);
  t.deepEqual(ops, opsCopy);
  // copy produces an independent value.
  out.g.d = 5;
  t.is(out.c.d, 2);
});

// RFC 6902 section 4.2: "The target location MUST exist for the operation to be successful."
// Object members are looked up with `in`, which also sees Object.prototype.
test('jsonPatch remove of a member named like an Object.prototype property fails when absent', (t) => {
  // BUG: removeAt checks `!(key in parent)`, and "toString" is in every object via its prototype,
  // so `remove /toString` on {} silently succeeds instead of failing with "missing path".
  t.throws(() => jsonPatch({}, [{ op: 'remove', path: '/toString' }]));
});

test('jsonPatch replace of an absent member named like an Object.prototype property fails', (t) => {
  // BUG: addAt(replace) checks `!(key in parent)`; `replace /constructor` on {} adds the key instead
  // of failing.
  t.throws(() => jsonPatch({}, [{ op: 'replace', path: '/constructor', value: 1 }]));
});

// ---------------------------------------------------------------------------------------------
// Bounds, as Kubernetes' patch handler sets them: operations, accumulated copies, path depth
// ---------------------------------------------------------------------------------------------

test('jsonPatch refuses more than 10,000 operations with 413 before applying any', (t) => {
  const ops = Array.from({ length: 10_001 }, () => ({ op: 'add', path: '/a', value: 1 }));
  const err = t.throws(() => jsonPatch({}, ops), { instanceOf: ApiError });
  t.is(err!.code, 413);
  t.is(err!.reason, 'RequestEntityTooLarge');
  t.is(err!.message, 'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001');
});

test('jsonPatch applies exactly 10,000 operations', (t) => {
  const ops = Array.from({ length: 10_000 }, (_, i) => ({ op: 'add', path: `/k${i % 10}`, value: i }));
  t.is(jsonPatch({}, ops).k9, 9999);
});

test('jsonPatch: a chain of doubling copies is refused at the accumulated copy limit, fast and with bounded memory', (t) => {
  // 26 copies of the whole document into itself would make 2^26 copies of it; Kubernetes stops at 3 MiB copied.
  const ops = Array.from({ length: 26 }, (_, i) => ({ op: 'copy', from: '', path: `/c${i}` }));
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const err = t.throws(() => jsonPatch({ seed: 'x'.repeat(64) }, ops), { instanceOf: ApiError });
  t.true(performance.now() - started < 1000, `refused in ${performance.now() - started} ms`);
  t.true(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024, 'the copies stopped at the limit');
  t.is(err!.code, 422);
  t.regex(err!.message, /^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/);
});

test('jsonPatch: copies adding up to under 3 MiB are applied', (t) => {
  const ops = Array.from({ length: 4 }, (_, i) => ({ op: 'copy', from: '/big', path: `/c${i}` }));
  const out = jsonPatch({ big: 'x'.repeat(500_000) }, ops);
  t.is(out.c3.length, 500_000);
});

test('jsonPatch refuses a path deeper than any patched object may be (422), before walking it', (t) => {
  const err = t.throws(() => jsonPatch({}, [{ op: 'add', path: '/a'.repeat(111), value: 1 }]), { instanceOf: ApiError });
  t.is(err!.code, 422);
  t.is(err!.message, 'the patched object exceeded max depth of 110');
});
